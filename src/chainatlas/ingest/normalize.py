"""Text normalisation, vectorised: NFKC, whitespace, traditional → simplified (OpenCC t2s).

Full NFKC and OpenCC are slow per string, and most rows need neither. So one
vectorised regex pass flags the rows holding any character outside a
"known-stable" set; flagged rows get a table replacement of the full-width
ASCII block (NFKC's most common work), and only rows still flagged after it get
full NFKC; only rows holding a traditional-only character go through OpenCC.
The stable set is computed once: printable ASCII and CJK characters that NFKC
leaves alone and that OpenCC t2s does not change on their own.

Known limit: a row whose only traditional form is a character OpenCC keeps
when it stands alone (瞭 in 瞭解 → 了解, but 瞭望 stays) is not converted; rows
with any other traditional character are converted whole, phrases included.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from typing import overload

import opencc
import polars as pl

# Ranges whose characters OpenCC t2s may change on their own.
_CJK_RANGES = (
    (0x2E80, 0x2FDF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
# Candidates for the stable set: ASCII, CJK punctuation, ideographs, Chinese quotes.
_STABLE_CANDIDATES = (
    (0x20, 0x7E),
    (0x3001, 0x303F),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0x2018, 0x2019),
    (0x201C, 0x201D),
    (0x2014, 0x2014),
    (0x00B7, 0x00B7),
)
# Full-width ASCII and the ideographic space: what NFKC does to them, as a table.
_FULLWIDTH = [chr(cp) for cp in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALFWIDTH = [chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)] + [" "]
# Invisible characters that NFKC keeps but that only cause mismatches.
_INVISIBLE = "[\u00ad\u200b-\u200d\u2060\ufeff]"


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.cache
def traditional_chars() -> frozenset[str]:
    """Characters that OpenCC t2s changes when converted alone (built once, ~0.1 s)."""
    chars = [chr(cp) for low, high in _CJK_RANGES for cp in range(low, high + 1)]
    converted = _t2s().convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # never seen; stay correct if OpenCC merges lines
        converted = [_t2s().convert(ch) for ch in chars]
    return frozenset(a for a, b in zip(chars, converted, strict=True) if a != b)


def _char_class(codepoints: Iterable[int]) -> str:
    """A compact regex character class body from code points (as ranges)."""
    points = sorted(codepoints)
    parts: list[str] = []
    start = prev = points[0]
    for cp in [*points[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\x{{{start:x}}}" if start == prev else f"\\x{{{start:x}}}-\\x{{{prev:x}}}")
        start = prev = cp
    return "".join(parts)


@functools.cache
def _needs_work_pattern() -> str:
    """Regex matching rows that are not already normalised."""
    traditional = traditional_chars()
    stable = (
        cp
        for low, high in _STABLE_CANDIDATES
        for cp in range(low, high + 1)
        if chr(cp) not in traditional
        and unicodedata.combining(chr(cp)) == 0
        and unicodedata.normalize("NFKC", chr(cp)) == chr(cp)
    )
    return f"[^{_char_class(stable)}]|\\s\\s|^\\s|\\s$"


@functools.cache
def _traditional_pattern() -> str:
    return f"[{_char_class(ord(ch) for ch in traditional_chars())}]"


def _to_simplified(texts: pl.Series) -> pl.Series:
    """OpenCC t2s on the rows holding a traditional-only character."""
    flagged = texts.str.contains(_traditional_pattern()).fill_null(False)
    if not flagged.any():
        return texts
    where = flagged.arg_true()
    originals = texts.gather(where).to_list()
    # One OpenCC call for all rows: they hold no newline after whitespace collapse.
    converted = _t2s().convert("\n".join(originals)).split("\n")
    if len(converted) != len(originals):
        converted = [_t2s().convert(text) for text in originals]
    return texts.clone().scatter(where, pl.Series(converted, dtype=pl.String))


def normalize_series(texts: pl.Series) -> pl.Series:
    """NFKC, drop invisible characters, collapse and trim whitespace, t2s. Nulls stay null."""
    texts = texts.cast(pl.String)
    where = texts.str.contains(_needs_work_pattern()).fill_null(False).arg_true()
    if not len(where):
        return texts
    # Full-width punctuation is what most flagged rows hold: replace it by table,
    # then run full NFKC only on the rows that still need more.
    subset = texts.gather(where).str.replace_many(_FULLWIDTH, _HALFWIDTH)
    still = subset.str.contains(_needs_work_pattern()).fill_null(False).arg_true()
    if len(still):
        subset = subset.scatter(
            still,
            (
                subset.gather(still)
                .str.normalize("NFKC")
                .str.replace_all(_INVISIBLE, "")
                .str.replace_all(r"\s+", " ")
                .str.strip_chars()
            ),
        )
    return texts.clone().scatter(where, _to_simplified(subset))


@overload
def normalize_text(texts: pl.Series) -> pl.Series: ...
@overload
def normalize_text(texts: pl.Expr) -> pl.Expr: ...
def normalize_text(texts: pl.Series | pl.Expr) -> pl.Series | pl.Expr:
    """Normalise a string Series, or an expression (evaluated batch-wise)."""
    if isinstance(texts, pl.Series):
        return normalize_series(texts)
    return texts.map_batches(normalize_series, return_dtype=pl.String, is_elementwise=True)


def normalize_frame(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    return frame.with_columns(normalize_text(pl.col(name)) for name in columns)


def normalize(text: str) -> str:
    """Scalar form, for one value (same code path as the vectorised form)."""
    result = normalize_series(pl.Series([text], dtype=pl.String))[0]
    return str(result)
