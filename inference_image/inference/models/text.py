"""Text inputs: checks a request's texts and tokenises them with Hugging Face's ``tokenizers`` (Rust, no torch)
from the ``tokenizer.json`` published with the model.

Whatever the file itself says about truncation and padding, texts are truncated to the model's
``max_tokens`` and each batch is padded only to its longest member, as sentence-transformers does.
``tokenizers`` and numpy are imported when a text model loads.

A long text is cut before it is tokenised (``TextEncoder.cut``): ``tokenizers`` tokenises a whole text before it
truncates (and keeps what it cut off), so 16 KB of ``1,2.`` (a token per byte) cost as much as 16,000 tokens
for the 256 the model reads. The cut never changes what the model sees: a prefix of the text is tokenised
first, and the text is cut only two whole words (pre-tokens, as the tokenizer itself splits them) past the
word that holds the last token the model reads; tokens of earlier words do not depend on what follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference.errors import BadRequest
from inference.models.images import is_image_input
from inference.models.inputs import TO_JOBS, json_kind
from inference.models.metadata import TextSpec

# A text longer than this many characters per token the model reads is probed before it is tokenised
# (English prose averages 4-5 characters a token, so 256 tokens fit in about 1,200 characters).
PROBE_CHARS_PER_TOKEN = 4


class TokenizerError(ValueError):
    """The tokenizer file cannot be read, or does not fit the metadata."""


@dataclass(frozen=True)
class TokenizedBatch:
    feeds: dict[str, Any]  # graph input name -> int array [batch, sequence]
    attention_mask: Any  # [batch, sequence], 1 for real tokens: what mean pooling averages over


class TextEncoder:
    """Turns a batch of texts into the graph's inputs; built once per loaded model."""

    def __init__(self, tokenizer_json: bytes, spec: TextSpec, dtypes: dict[str, str]) -> None:
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_str(tokenizer_json.decode("utf-8"))
        except Exception as error:  # tokenizers raises plain Exceptions for malformed files
            raise TokenizerError(f"{spec.tokenizer} is not a tokenizer that `tokenizers` can read: {error}") from error
        vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        if vocab_size != spec.vocab_size:
            raise TokenizerError(
                f"{spec.tokenizer} has {vocab_size} tokens, but the metadata says the model's vocabulary is "
                f"{spec.vocab_size}"
            )
        padding = tokenizer.padding or {}
        pad_token = padding.get("pad_token", "[PAD]")
        pad_id = padding.get("pad_id", tokenizer.token_to_id(pad_token))
        if pad_id is None:
            raise TokenizerError(f"{spec.tokenizer} declares no padding token and has no {pad_token!r}")
        tokenizer.no_truncation()
        tokenizer.enable_truncation(spec.max_tokens)
        tokenizer.no_padding()
        # The probe of cut(): the same tokenizer, without truncation or padding (its own object, so that
        # concurrent requests never see the main one's settings change).
        probe = Tokenizer.from_str(tokenizer.to_str())
        probe.no_truncation()
        probe.no_padding()
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token, pad_type_id=padding.get("pad_type_id", 0))
        self.spec = spec
        self.tokenizer = tokenizer
        self._probe = probe
        # Padding after the tokens lets a batch be cut into shorter runs (see LoadedModel.run).
        self.pads_right = padding.get("direction", "right") == "right"
        self._dtypes = dtypes  # graph input name -> dtype

    def max_batch(self, server_max: int) -> int:
        return min(server_max, self.spec.max_batch or server_max)

    def encode(self, inputs: object, server_max_batch: int) -> TokenizedBatch:
        """The tokenised batch, or BadRequest naming the first bad text."""
        import numpy as np

        texts = self.cut(checked_texts(inputs, self.max_batch(server_max_batch), self.spec.max_text_bytes))
        encodings = self.tokenizer.encode_batch(texts)
        arrays = {
            "input_ids": np.array([item.ids for item in encodings], dtype=np.int64),
            "attention_mask": np.array([item.attention_mask for item in encodings], dtype=np.int64),
            "token_type_ids": np.array([item.type_ids for item in encodings], dtype=np.int64),
        }
        feeds = {
            name: arrays[role].astype(self._dtypes[name], copy=False) for role, name in self.spec.graph_inputs.items()
        }
        return TokenizedBatch(feeds=feeds, attention_mask=arrays["attention_mask"])

    def cut(self, texts: list[str]) -> list[str]:
        """The texts, each long one cut where the cut cannot change the tokens the model reads (its first
        ``max_tokens``). A prefix of each long text is tokenised; if it does not reach two words past the last
        token read, a prefix twice as long is tried, up to the whole text (then kept whole)."""
        wanted = self.spec.max_tokens  # content tokens kept by truncation: at most this many
        window = PROBE_CHARS_PER_TOKEN * wanted
        texts = list(texts)
        pending = [index for index, text in enumerate(texts) if len(text) > window]
        while pending:
            prefixes = self._probe.encode_batch([texts[index][:window] for index in pending], add_special_tokens=False)
            undecided = []
            for index, encoding in zip(pending, prefixes, strict=True):
                end = _cut_point(encoding.word_ids, encoding.offsets, wanted)
                if end is None:
                    undecided.append(index)
                else:
                    texts[index] = texts[index][:end]
            window *= 2
            pending = [index for index in undecided if len(texts[index]) > window // 2]
        return texts

    def probe(self) -> TokenizedBatch:
        """A batch holding the tokenizer's largest token id: a graph whose vocabulary is smaller fails on it."""
        import numpy as np

        batch = self.encode(["probe"], 1)
        ids = self.spec.graph_inputs["input_ids"]
        feeds = dict(batch.feeds)
        feeds[ids] = feeds[ids].copy()
        feeds[ids][0, 1] = self.spec.vocab_size - 1  # keeps [CLS] first and [SEP] last
        return TokenizedBatch(feeds=feeds, attention_mask=np.ones_like(batch.attention_mask))


def _cut_point(word_ids: list[int | None], offsets: list[tuple[int, int]], wanted: int) -> int | None:
    """Where a text may be cut, given the tokens of a prefix of it: the start of the second word after the
    word holding token ``wanted`` (the last the model may read). None when the prefix holds no such word far
    enough from its end: its last word may be cut short, and the one before may still change with what
    follows (a tokenizer may look one character ahead), so only the words before those two are relied on."""
    words = [word for word in word_ids if word is not None]
    if len(words) <= wanted:
        return None
    last_read, last = words[wanted - 1], words[-1]
    for word, (start, _) in zip(word_ids, offsets, strict=True):
        if word is not None and word >= last_read + 2:
            return start if word <= last - 2 else None
    return None


def checked_texts(inputs: object, max_batch: int, max_text_bytes: int) -> list[str]:
    """The batch as a list of texts; BadRequest naming the first that is not a non-empty string within the limit."""
    if not isinstance(inputs, list):
        raise _invalid(f'"inputs" must be a list of texts, got {json_kind(inputs)}')
    if not inputs:
        raise _invalid('"inputs" is empty: send at least one text')
    if len(inputs) > max_batch:
        raise _invalid(f'"inputs" holds {len(inputs)} texts; at most {max_batch} are allowed per request{TO_JOBS}')
    for index, text in enumerate(inputs):
        if not isinstance(text, str):
            got = "an image: this model takes text, not images" if is_image_input(text) else json_kind(text)
            raise _invalid(f"inputs[{index}] must be a string, got {got}")
        if not text.strip():
            raise _invalid(f"inputs[{index}] is empty: send some text")
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise _invalid(f"inputs[{index}] is not valid Unicode (it holds a lone surrogate)") from None
        if size > max_text_bytes:
            raise _invalid(
                f"inputs[{index}] is {size} bytes of UTF-8; at most {max_text_bytes} are allowed "
                "(longer texts are truncated to the model's length anyway)"
            )
    return list(inputs)


def _invalid(message: str) -> BadRequest:
    return BadRequest(message, "invalid_input")
