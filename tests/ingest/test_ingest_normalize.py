"""Text normalisation: NFKC, whitespace, traditional → simplified, vectorised."""

from __future__ import annotations

import re
import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.ingest.normalize import (
    normalize,
    normalize_frame,
    normalize_series,
    normalize_text,
    traditional_chars,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("臺灣積體電路製造股份有限公司", "台湾积体电路制造股份有限公司"),
        ("  ＡＢＣ　 公司\t\n有限 ", "ABC 公司 有限"),
        ("生产，销售；（依法）", "生产,销售;(依法)"),
        ("\u200b广西\ufeff糖业", "广西糖业"),
        ("e\u0301", "é"),
        ("①号车间", "1号车间"),
        ("貨物進出口；技術諮詢", "货物进出口;技术咨询"),
        ("already simplified", "already simplified"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_traditional_set() -> None:
    chars = traditional_chars()
    assert {"臺", "灣", "進", "體"} <= chars
    assert not {"台", "湾", "进", "体", "糖"} & chars


def test_series_expression_and_frame_agree() -> None:
    values = ["臺灣糖業", None, "  a  b ", "ｘ"]
    expected = ["台湾糖业", None, "a b", "x"]
    assert normalize_text(pl.Series(values)).to_list() == expected
    frame = pl.DataFrame({"name": values, "other": values})
    assert frame.select(normalize_text(pl.col("name")))["name"].to_list() == expected
    assert (
        frame.lazy().select(normalize_text(pl.col("name"))).collect()["name"].to_list() == expected
    )
    normalised = normalize_frame(frame, ["name"])
    assert normalised["name"].to_list() == expected
    assert normalised["other"].to_list() == values


def test_input_series_is_not_modified() -> None:
    values = pl.Series(["臺灣", "ok"])
    normalize_series(values)
    assert values.to_list() == ["臺灣", "ok"]


# Text from the kinds of characters registers contain (no C0 controls: Python's and
# Rust's ideas of whitespace differ there, and registers do not hold them).
_CHARS = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0xF900, max_codepoint=0xFA2D),
    st.sampled_from(sorted(traditional_chars())[:500]),
    st.sampled_from(list("\u3000\t\n\u00a0\u200b\ufeff\u0301①㈱…“”、。《》")),
)
texts = st.text(alphabet=_CHARS, max_size=40)


def _reference(text: str) -> str:
    """The slow definition the fast path must equal: every step on every string."""
    import opencc

    result = unicodedata.normalize("NFKC", text)
    result = re.sub("[\u00ad\u200b-\u200d\u2060\ufeff]", "", result)
    result = re.sub(r"\s+", " ", result).strip()
    if any(ch in traditional_chars() for ch in result):
        result = opencc.OpenCC("t2s").convert(result)
    return result


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=20))
def test_fast_path_equals_reference(values: list[str]) -> None:
    assert normalize_series(pl.Series(values, dtype=pl.String)).to_list() == [
        _reference(v) for v in values
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=20))
def test_idempotent(values: list[str]) -> None:
    once = normalize_series(pl.Series(values, dtype=pl.String))
    assert normalize_series(once).to_list() == once.to_list()
