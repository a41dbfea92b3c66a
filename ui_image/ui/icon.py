"""The page's icon, drawn here: an 8x8 digit, like the example model's inputs. Bundled with the app, so the
browser fetches it from this server; a ``:material/...:`` page icon would make it fetch an SVG from Google's
font host, which fails offline and leaks the visit."""

from __future__ import annotations

from PIL import Image

# A 3 on the example model's 8x8 grid: 1 is ink, 0 is background.
_DIGIT = (
    "00111100",
    "01100110",
    "00000110",
    "00011100",
    "00000110",
    "00000110",
    "01100110",
    "00111100",
)
_CELL = 8  # pixels per grid cell: a 64x64 icon
_INK = (255, 75, 75, 255)  # Streamlit's primary red
_BACKGROUND = (0, 0, 0, 0)


def page_icon() -> Image.Image:
    icon = Image.new("RGBA", (8 * _CELL, 8 * _CELL), _BACKGROUND)
    for row, line in enumerate(_DIGIT):
        for column, cell in enumerate(line):
            if cell == "1":
                icon.paste(_INK, (column * _CELL, row * _CELL, (column + 1) * _CELL, (row + 1) * _CELL))
    return icon
