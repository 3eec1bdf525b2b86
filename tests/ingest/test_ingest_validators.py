"""Validators: USCC check digits (GB 32100-2015), codes, dates, amounts, tags."""

from __future__ import annotations

import random
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.ingest.validators import (
    CNY_PER_UNIT,
    USCC_CHARSET,
    is_valid_region_code,
    is_valid_uscc,
    is_valid_uscc_series,
    make_uscc,
    make_uscc_series,
    money_unit,
    org_code_check_digit,
    parse_amount,
    parse_date,
    parse_employees,
    parse_industry_code,
    parse_tags,
    parse_year,
    region_code_problems,
    uscc_check_digit,
    uscc_problems,
)

TODAY = date(2024, 6, 30)
regions = st.from_regex(r"[0-9]{6}", fullmatch=True)
seqs = st.integers(min_value=0, max_value=10**8 - 1)


# --- USCC ------------------------------------------------------------------------


def test_public_example_is_valid() -> None:
    assert is_valid_uscc("91350100M000100Y43")
    assert uscc_check_digit("91350100M000100Y4") == "3"


def test_check_digit_worked_by_hand() -> None:
    # Organisation code 12345678: Σ digit·(3,7,9,10,5,8,4,2) = 201; 11 − 201 mod 11 = 8.
    assert org_code_check_digit("12345678") == "8"
    # "91110105123456788": Σ value·weight = 1082; 1082 mod 31 = 28; 31 − 28 = 3.
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert (
        sum(USCC_CHARSET.index(c) * w for c, w in zip("91110105123456788", weights, strict=True))
        == 1082
    )
    assert uscc_check_digit("91110105123456788") == "3"
    assert make_uscc("110105", 12345678) == "911101051234567883"


def test_check_value_31_maps_to_zero() -> None:
    # A sum that is a multiple of 31 gives 31 − 0 = 31, written "0".
    code17 = next(
        c
        for c in (f"9111010500000{i:04d}" for i in range(10_000))
        if sum(
            USCC_CHARSET.index(ch) * w
            for ch, w in zip(
                c, (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), strict=True
            )
        )
        % 31
        == 0
    )
    assert uscc_check_digit(code17) == "0"


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check digit
        "91350100M000100Y4",  # 17 characters
        "91350100m000100Y43",  # lower case is not the exact form
        "91350100I000100Y43",  # I is outside the code set
        "",
    ],
)
def test_invalid_codes(code: str) -> None:
    assert not is_valid_uscc(code)


def test_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_digit("9135010")
    with pytest.raises(ValueError):
        uscc_check_digit("9135010OM000100Y4")


@given(regions, seqs)
def test_make_uscc_always_validates(region: str, seq: int) -> None:
    code = make_uscc(region, seq)
    assert is_valid_uscc(code) and code[2:8] == region


@given(regions, seqs, st.randoms(use_true_random=False))
def test_make_uscc_with_rng_validates(region: str, seq: int, rng: random.Random) -> None:
    code = make_uscc(region, seq, rng)
    assert code[:2] in ("91", "93") and is_valid_uscc(code)


def test_make_uscc_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_uscc("4501", 1)
    with pytest.raises(ValueError):
        make_uscc("450102", 10**8)


@given(regions, seqs, st.integers(0, 17), st.sampled_from(USCC_CHARSET))
def test_any_single_substitution_is_detected(
    region: str, seq: int, position: int, replacement: str
) -> None:
    """Weights are 3^i mod 31, never 0, and 31 is prime: any one changed character shifts
    the sum by weight × difference ≢ 0 (mod 31), so the check digit no longer fits."""
    code = make_uscc(region, seq)
    changed = code[:position] + replacement + code[position + 1 :]
    assert is_valid_uscc(changed) == (changed == code)


@given(
    st.lists(
        st.one_of(
            st.text(alphabet=USCC_CHARSET, min_size=18, max_size=18),
            st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17).map(
                lambda c: c + uscc_check_digit(c)
            ),
            st.text(max_size=20),
            st.none(),
        ),
        max_size=40,
    )
)
def test_vectorised_and_scalar_agree(codes: list[str | None]) -> None:
    vectorised = is_valid_uscc_series(pl.Series(codes, dtype=pl.String)).to_list()
    assert vectorised == [is_valid_uscc(code) for code in codes]


def test_make_uscc_series_matches_scalar() -> None:
    regions_ = ["450102", "110105", "440305", "650102"]
    numbers = [0, 1, 99_999_999, 12_345_678]
    assert make_uscc_series(regions_, numbers).to_list() == [
        make_uscc(r, n) for r, n in zip(regions_, numbers, strict=True)
    ]
    with pytest.raises(ValueError):
        make_uscc_series(["4501"], [1])


def test_uscc_problems_give_reasons() -> None:
    codes = pl.Series(
        ["91350100M000100Y43", "91350100M000100Y44", "9135", "91350100O000100Y43", None]
    )
    reasons = uscc_problems(codes)["reason_en"].to_list()
    assert reasons[0] is None
    assert "check digit" in reasons[1]
    assert "18 characters, not 4" in reasons[2]
    assert "code set" in reasons[3]
    assert reasons[4].startswith("missing")


# --- region and industry codes --------------------------------------------------


def test_region_codes() -> None:
    known = pl.Series(["450102", "450103"])
    checked = region_code_problems(
        pl.Series(["450102", "450104", "4501", "450102000000", "450103.0", None]), known
    )
    assert checked["value"].to_list()[3:5] == ["450102", "450103"]
    assert checked["reason_en"].to_list() == [
        None,
        "region code is not in the list of region codes",
        "region code must be 6 digits",
        None,
        None,
        "missing region code",
    ]
    assert is_valid_region_code("450102", {"450102"})
    assert not is_valid_region_code("450102", {"450103"})


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1340", "1340"),
        ("C1340", "1340"),
        ("C 1340", "1340"),
        ("c-1340", "1340"),
        ("13 40", "1340"),
        ("1340.0", "1340"),
        ("C1340 制糖业", "1340"),
        ("０１１１", "0111"),
    ],
)
def test_industry_code_forms(text: str, code: str) -> None:
    assert parse_industry_code(text).value == code


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("134", "4-digit"),
        ("13401", "4-digit"),
        ("制糖", "4-digit"),
        ("0000", "division 00"),
        ("9901", "division 99"),
        ("A1340", "section A does not match division 13"),
    ],
)
def test_industry_code_rejections(text: str, reason: str) -> None:
    parsed = parse_industry_code(text)
    assert parsed.value is None and parsed.reason_en is not None and reason in parsed.reason_en


# --- dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2019-03-01",
        "2019/3/1",
        "2019.3.1",
        "2019年3月1日",
        "2019年03月01日",
        "20190301",
        43525,
        43525.0,
        "43525",
        "2019-03-01 00:00:00",
        "２０１９－０３－０１",
        date(2019, 3, 1),
        datetime(2019, 3, 1, 14, 30),
    ],
)
def test_date_forms(value: object) -> None:
    assert parse_date(value, TODAY).value == date(2019, 3, 1)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2019-02-30", "impossible"),
        ("2019-13-01", "impossible"),
        ("1948-12-31", "before 1949"),
        ("2024-07-01", "future"),
        ("2019年3月", "unrecognised"),
        ("昨天", "unrecognised"),
        ("2019", "unrecognised"),
    ],
)
def test_date_rejections(value: str, reason: str) -> None:
    parsed = parse_date(value, TODAY)
    assert parsed.value is None and parsed.reason_en is not None and reason in parsed.reason_en


@pytest.mark.parametrize("value", [None, "", " ", "-", "无", "N/A"])
def test_blank_dates_are_absent_not_rejected(value: str | None) -> None:
    parsed = parse_date(value, TODAY)
    assert parsed.value is None and parsed.ok


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_date_parser_never_crashes(text: str) -> None:
    parsed = parse_date(text, TODAY)
    assert parsed.value is None or (parsed.ok and date(1949, 1, 1) <= parsed.value <= TODAY)


# --- amounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "wan"),
    [
        ("500", 500.0),
        ("500万", 500.0),
        ("500万元", 500.0),
        ("500万人民币", 500.0),
        ("500万元人民币", 500.0),
        ("人民币500万元", 500.0),
        ("5,000,000元", 500.0),
        ("5000000.00 元", 500.0),
        ("0.5亿", 5000.0),
        ("1.2亿元", 12000.0),
        ("￥500万", 500.0),
        ("300万美元", 300 * CNY_PER_UNIT["USD"]),
        ("100万港币", 100 * CNY_PER_UNIT["HKD"]),
        ("2000万日元", 2000 * CNY_PER_UNIT["JPY"]),
        ("10万欧元", 10 * CNY_PER_UNIT["EUR"]),
        ("1,000,000英镑", 100 * CNY_PER_UNIT["GBP"]),
        ("0", 0.0),
        ("５００万元", 500.0),
    ],
)
def test_amount_forms(text: str, wan: float) -> None:
    assert parse_amount(text).value == pytest.approx(wan)


def test_amount_header_units() -> None:
    assert parse_amount("5000000", "元").value == pytest.approx(500.0)
    assert parse_amount("1.5", "亿元").value == pytest.approx(15000.0)
    assert parse_amount("10", "万美元").value == pytest.approx(10 * CNY_PER_UNIT["USD"])
    assert parse_amount("500万", "元").value == pytest.approx(500.0)  # the value's unit wins
    assert parse_amount("500人民币", "万元").value == pytest.approx(0.05)  # currency: units
    assert money_unit(None) == (1.0, "CNY")
    assert money_unit("万元") == (1.0, "CNY")
    assert money_unit("元") == (1e-4, "CNY")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5", "negative"),
        ("-5万元", "negative"),
        ("五百万", "unrecognised"),
        ("500万元左右", "unrecognised"),
        ("1e400", "too large"),
    ],
)
def test_amount_rejections(text: str, reason: str) -> None:
    parsed = parse_amount(text)
    assert parsed.value is None and parsed.reason_en is not None and reason in parsed.reason_en


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_amount_parser_never_crashes(text: str) -> None:
    parsed = parse_amount(text)
    assert parsed.value is None or (parsed.ok and parsed.value >= 0)


# --- employees, years, tags ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"), [("120", 120), ("1,200", 1200), ("120人", 120), ("120.0", 120), ("0", 0)]
)
def test_employee_forms(text: str, count: int) -> None:
    assert parse_employees(text).value == count


@pytest.mark.parametrize("text", ["-5", "12.5", "约100", "100-200"])
def test_employee_rejections(text: str) -> None:
    assert not parse_employees(text).ok


def test_years() -> None:
    assert parse_year("2023年度", TODAY).value == 2023
    assert parse_year("2023.0", TODAY).value == 2023
    assert not parse_year("1900", TODAY).ok
    assert not parse_year("2025", TODAY).ok
    assert not parse_year("23", TODAY).ok


@pytest.mark.parametrize(
    ("text", "known", "unknown"),
    [
        ('国家级专精特新"小巨人"企业', "专精特新小巨人", None),
        ("小巨人；高新技术", "专精特新小巨人;高新技术企业", None),
        ("国家高新技术企业、A股上市", "上市;高新技术企业", None),
        ("上市公司,省级专精特新中小企业", "上市;专精特新", None),
        ("高企 创新型中小企业", "高新技术企业", "创新型中小企业"),
        ("拟上市", None, "拟上市"),
        ("无", None, None),
    ],
)
def test_tags(text: str, known: str | None, unknown: str | None) -> None:
    assert parse_tags(text) == (known, unknown)
