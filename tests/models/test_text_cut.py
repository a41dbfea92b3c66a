"""Texts are cut before they are tokenised, where the cut cannot change what the model reads: the tokens of a
cut text's first max_tokens are those of the whole text, for prose and for every pathological text."""

from __future__ import annotations

import functools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference.models.metadata import ModelMetadata
from inference.models.text import TextEncoder
from testing.worst_inputs import PATHOLOGICAL_TEXTS, prose
from tests.models.factory import MINILM_REFERENCE, minilm_dir

ROLES = ("input_ids", "attention_mask", "token_type_ids")


@functools.cache
def encoder() -> TextEncoder:
    folder = minilm_dir()
    spec = ModelMetadata.read(folder).text
    assert spec is not None
    return TextEncoder((folder / spec.tokenizer).read_bytes(), spec, dict.fromkeys(ROLES, "int64"))


def whole(text: str) -> tuple[list[int], list[int], list[int]]:
    """The text tokenised whole, then truncated: what the model read before texts were cut."""
    encoding = encoder().tokenizer.encode(text)
    return encoding.ids, encoding.attention_mask, encoding.type_ids


def cut_then_tokenised(text: str) -> tuple[list[int], list[int], list[int]]:
    (cut,) = encoder().cut([text])
    assert text.startswith(cut)
    encoding = encoder().tokenizer.encode(cut)
    return encoding.ids, encoding.attention_mask, encoding.type_ids


def reference_sentences() -> list[str]:
    sentences: list[str] = json.loads(MINILM_REFERENCE.read_text(encoding="utf-8"))["sentences"]
    return sentences


@pytest.mark.parametrize(
    "text",
    [prose(16384), *(text for _, text in PATHOLOGICAL_TEXTS.values()), *reference_sentences()],
    ids=["prose", *PATHOLOGICAL_TEXTS, *(f"reference-{index}" for index in range(len(reference_sentences())))],
)
def test_cutting_changes_no_token_the_model_reads(text: str) -> None:
    """Prose, each pathological text and each reference sentence: the same ids, mask and type ids."""
    assert cut_then_tokenised(text) == whole(text)


@pytest.mark.parametrize("name", ["digits_and_commas", "punctuation", "cjk", "short_words"])
def test_a_pathological_text_is_cut_close_to_what_the_model_reads(name: str) -> None:
    """16 KB of `1,2.` (a token a character) is cut to a few hundred characters before it is tokenised."""
    (cut,) = encoder().cut([PATHOLOGICAL_TEXTS[name][1]])
    assert len(cut) <= 3 * encoder().spec.max_tokens


def test_short_texts_are_left_whole() -> None:
    """A text shorter than the probe's window is not probed and not cut."""
    texts = ["A man is eating food.", "x" * 1000]
    assert encoder().cut(texts) == texts


# Words of the kinds a tokenizer treats differently, joined by the separators it splits on (or none).
_pieces = st.sampled_from(
    ["word", "Wörter", "1", ",", ".", "1,2.", "\u4e2d", "\U0001f600", "e\u0301", "\x01", "a" * 120, "##", "[SEP]", "'s"]
)
_separators = st.sampled_from(["", " ", "  ", "\n", "\t", "\u00a0", "\u3000"])
_texts = st.lists(st.tuples(_pieces, _separators), min_size=1, max_size=1500).map(
    lambda parts: "".join(piece + separator for piece, separator in parts)
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts)
def test_cutting_never_changes_the_tokens_of_any_text(text: str) -> None:
    """Random mixes of words, digits, punctuation, CJK, emoji, accents, control characters, over-long words
    and odd spaces, up to thousands of tokens: cutting first gives the tokens of the whole text."""
    assert cut_then_tokenised(text) == whole(text)
