"""Value validators: pure functions, vectorised over polars, with scalar forms.

Each vectorised check takes a Series of cleaned strings (see `clean_series`)
and returns a frame of the same height with columns `value` (parsed),
`reason_zh` and `reason_en` (null where the value is fine or absent).

Two choices keep a million rows fast: checks run in stages that materialise
their intermediate columns (polars would otherwise re-evaluate a shared regex
in every branch that uses it), and checks of typically repetitive columns
(dates, codes, amounts, tags) run once per distinct value and are joined back.

Scalar forms (`parse_date`, …) run the same code on a one-row Series, so both
always agree; only the USCC check digit has a separate plain-Python form, the
reference the vectorised one is tested against.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import numpy as np
import polars as pl

from chainatlas.ingest.normalize import normalize_series

T = TypeVar("T")
P = ParamSpec("P")

MAX_FIELD_CHARS = 10_000
EARLIEST_DATE = date(1949, 1, 1)
EARLIEST_YEAR = EARLIEST_DATE.year
CHECK_COLUMNS = ("value", "reason_zh", "reason_en")
# Work per distinct value only when there are at most this share of them.
_DISTINCT_SHARE = 0.3

# Values that mean "no value" in the registers and spreadsheets we see.
NULL_MARKERS = ("", "-", "--", "—", "——", "/", "无", "暂无", "n/a", "na", "null", "none", "nan")
_LONGEST_MARKER_BYTES = max(len(marker.encode()) for marker in NULL_MARKERS)


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """Scalar check result: a value, or the reason it was rejected."""

    value: T | None
    reason_zh: str | None = None
    reason_en: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason_zh is None


# --- plumbing -----------------------------------------------------------------

Case = tuple[pl.Expr, str | pl.Expr, str | pl.Expr]


def _text(value: str | pl.Expr) -> pl.Expr:
    return pl.lit(value, dtype=pl.String) if isinstance(value, str) else value


def _finish(frame: pl.DataFrame, value: pl.Expr, *cases: Case) -> pl.DataFrame:
    """The check frame: `value` and the reason of the first matching case (if/elif)."""
    reason_zh = reason_en = pl.lit(None, dtype=pl.String)
    for cond, zh, en in reversed(cases):  # built inside out, so the first case wins
        reason_zh = pl.when(cond).then(_text(zh)).otherwise(reason_zh)
        reason_en = pl.when(cond).then(_text(en)).otherwise(reason_en)
    return frame.select(
        value.alias("value"), reason_zh.alias("reason_zh"), reason_en.alias("reason_en")
    )


def _frame(texts: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"t": texts.cast(pl.String)})


_t = pl.col("t")


def on_distinct(texts: pl.Series, compute: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """`compute(texts)`, evaluated once per distinct value when values repeat a lot.

    `compute` must return one row per input value, in input order.
    """
    # A 1-in-10 sample tells mostly-distinct columns (names, codes, revenue) cheaply;
    # for them finding the distinct values and joining back costs more than it saves.
    if len(texts) >= 20_000:
        sample = texts.gather_every(10)
        if sample.n_unique() > _DISTINCT_SHARE * len(sample):
            return compute(texts)
    distinct = texts.unique()
    if len(distinct) > _DISTINCT_SHARE * len(texts):
        return compute(texts)
    lookup = compute(distinct).with_columns(distinct.alias("_key"))
    keys = texts.alias("_key").to_frame()
    joined = keys.join(lookup, on="_key", how="left", nulls_equal=True, maintain_order="left")
    return joined.drop("_key")


def checked_field(
    raw: pl.Series, check: Callable[[pl.Series], pl.DataFrame] | None = None
) -> pl.DataFrame:
    """`cleaned` text of `raw`, plus the columns of `check` run on it — computed once
    per distinct raw value, so a column is hashed and joined back only once."""

    def compute(values: pl.Series) -> pl.DataFrame:
        cleaned = clean_series(values).alias("cleaned").to_frame()
        return (
            cleaned
            if check is None
            else pl.concat([cleaned, check(cleaned["cleaned"])], how="horizontal")
        )

    return on_distinct(raw.cast(pl.String), compute)


def _per_distinct(
    check: Callable[Concatenate[pl.Series, P], pl.DataFrame],
) -> Callable[Concatenate[pl.Series, P], pl.DataFrame]:
    """Decorate a check to run once per distinct value (see `on_distinct`)."""

    @functools.wraps(check)
    def wrapper(texts: pl.Series, *args: P.args, **kwargs: P.kwargs) -> pl.DataFrame:
        return on_distinct(texts, lambda values: check(values, *args, **kwargs))

    return wrapper


def blank_to_null(texts: pl.Series) -> pl.Series:
    """Null for empty cells and the usual "no value" markers ("-", "无", "N/A" …)."""
    # Only short cells can be markers; lower-casing every long text would be slow.
    short = (texts.str.len_bytes() <= _LONGEST_MARKER_BYTES).fill_null(False).arg_true()
    if not len(short):
        return texts
    is_marker = texts.gather(short).str.to_lowercase().is_in(NULL_MARKERS)
    markers = short.filter(is_marker)
    return texts.clone().scatter(markers, None) if len(markers) else texts


def clean_series(texts: pl.Series) -> pl.Series:
    """Normalised text (NFKC, whitespace, simplified) with "no value" markers as null."""
    cleaned = on_distinct(
        texts.cast(pl.String), lambda values: blank_to_null(normalize_series(values)).to_frame()
    )
    return cleaned.to_series().alias(texts.name)


def too_long(texts: pl.Series, limit: int = MAX_FIELD_CHARS) -> pl.DataFrame:
    frame = _frame(texts).with_columns(length=_t.str.len_chars())
    length = pl.col("length")
    return _finish(
        frame,
        _t,
        (
            length > limit,
            pl.format("内容过长（{} 字符，上限 {}）", length, pl.lit(limit)),
            pl.format("field too long ({} characters, limit {})", length, pl.lit(limit)),
        ),
    )


def required(texts: pl.Series, what_zh: str, what_en: str) -> pl.DataFrame:
    return _finish(_frame(texts), _t, (_t.is_null(), f"缺少{what_zh}", f"missing {what_en}"))


# --- 统一社会信用代码 (GB 32100-2015) --------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = r"^[0-9A-HJ-NPQRTUW-Y]{18}$"
_USCC_VALUE = np.zeros(256, dtype=np.int64)
_USCC_VALUE[np.frombuffer(USCC_CHARSET.encode("ascii"), dtype=np.uint8)] = np.arange(31)


def uscc_check_digit(code17: str) -> str:
    """Check character of the first 17 characters: 31 − (Σ value·weight mod 31), 31 → 0."""
    if len(code17) != 17 or any(ch not in USCC_CHARSET for ch in code17):
        raise ValueError(f"not 17 USCC characters: {code17!r}")
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(code17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: object) -> bool:
    """Exact form (18 characters of the code set, upper case) with a correct check digit."""
    if not isinstance(code, str) or len(code) != 18 or any(ch not in USCC_CHARSET for ch in code):
        return False
    return uscc_check_digit(code[:17]) == code[17]


def _byte_matrix(codes: pl.Series, width: int) -> np.ndarray:
    """ASCII strings all of length `width` as an n×width uint8 matrix."""
    joined = codes.str.join("").item() or ""
    return np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, width)


def is_valid_uscc_series(codes: pl.Series, shaped: pl.Series | None = None) -> pl.Series:
    """Vectorised `is_valid_uscc`: numpy over an n×18 byte matrix, no per-row Python.

    `shaped` may pass in the already computed match of the code-set pattern.
    """
    if shaped is None:
        shaped = codes.cast(pl.String).str.contains(_USCC_SHAPE)
    shaped = shaped.fill_null(False)
    result = np.zeros(len(codes), dtype=bool)
    where = np.flatnonzero(shaped.to_numpy())
    if where.size:
        values = _USCC_VALUE[_byte_matrix(codes.filter(shaped), 18)]
        expected = (31 - (values[:, :17] @ np.array(USCC_WEIGHTS)) % 31) % 31
        result[where] = expected == values[:, 17]
    return pl.Series(codes.name, result, dtype=pl.Boolean)


def clean_uscc(texts: pl.Series) -> pl.Series:
    """Upper case, without the spaces and hyphens people type inside codes."""
    untidy = texts.str.contains(r"[a-z\s\-]").fill_null(False)
    if not untidy.any():
        return texts
    where = untidy.arg_true()
    tidied = texts.gather(where).str.to_uppercase().str.replace_all(r"[\s\-]", "")
    return texts.clone().scatter(where, tidied)


def uscc_problems(
    codes: pl.Series, what_zh: str = "统一社会信用代码", what_en: str = "unified social credit code"
) -> pl.DataFrame:
    """Check cleaned codes; a null code is reported missing (the code is always required)."""
    shaped = codes.cast(pl.String).str.contains(_USCC_SHAPE).alias("shaped")
    frame = _frame(codes).with_columns(
        length=_t.str.len_chars(), shaped=shaped, valid=is_valid_uscc_series(codes, shaped)
    )
    length = pl.col("length")
    return _finish(
        frame,
        _t,
        (_t.is_null(), f"缺少{what_zh}", f"missing {what_en}"),
        (
            length != 18,
            pl.format(f"{what_zh}应为 18 位，实际为 {{}} 位", length),
            pl.format(f"{what_en} must have 18 characters, not {{}}", length),
        ),
        (
            ~pl.col("shaped"),
            f"{what_zh}含有不允许的字符（只用数字和除 I、O、S、V、Z 以外的大写字母）",
            f"{what_en} has characters outside its code set (digits, capitals except I O S V Z)",
        ),
        (
            ~pl.col("valid"),
            f"{what_zh}校验位错误，代码有误",
            f"{what_en} check digit does not match; the code is mistyped",
        ),
    )


def org_code_check_digit(code8: str) -> str:
    """GB 11714 organisation-code check character (positions 9–17 of a USCC)."""
    values = [int(ch, 36) for ch in code8]
    remainder = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def make_uscc(region_code: str, seq: int, rng: random.Random | None = None) -> str:
    """A valid USCC for synthetic data: unique per (region_code, seq).

    Layout: "91" (market regulator, enterprise) + region + 8-digit `seq` +
    GB 11714 check + GB 32100 check. With `rng`, about 1 in 20 codes gets "93"
    (farmers' cooperative) instead, as real registers do.
    """
    if not re.fullmatch(r"[0-9]{6}", region_code):
        raise ValueError(f"region_code must be 6 digits: {region_code!r}")
    if not 0 <= seq < 10**8:
        raise ValueError(f"seq must be in [0, 10**8): {seq}")
    prefix = "93" if rng is not None and rng.random() < 0.05 else "91"
    body = f"{seq:08d}"
    code17 = prefix + region_code + body + org_code_check_digit(body)
    return code17 + uscc_check_digit(code17)


def make_uscc_series(
    region_codes: Iterable[str] | pl.Series, seqs: Iterable[int] | np.ndarray | pl.Series
) -> pl.Series:
    """Vectorised `make_uscc` (prefix always "91") for large synthetic tables."""
    regions = pl.Series("uscc", region_codes, dtype=pl.String)
    numbers = np.asarray(seqs, dtype=np.int64)
    if len(regions) != len(numbers):
        raise ValueError("region_codes and seqs must have the same length")
    if not regions.str.contains(r"^[0-9]{6}$").fill_null(False).all():
        raise ValueError("every region_code must be 6 digits")
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 10**8):
        raise ValueError("every seq must be in [0, 10**8)")
    if not len(regions):
        return regions
    body = pl.Series(numbers).cast(pl.String).str.zfill(8)
    digits = _byte_matrix(body, 8).astype(np.int64) - ord("0")
    remainder = 11 - (digits @ np.array((3, 7, 9, 10, 5, 8, 4, 2))) % 11
    org_check = pl.Series(remainder).cast(pl.String).replace({"10": "X", "11": "0"})
    code17 = pl.select(
        pl.concat_str(pl.lit("91"), pl.lit(regions), pl.lit(body), pl.lit(org_check))
    ).to_series()
    check = (31 - (_USCC_VALUE[_byte_matrix(code17, 17)] @ np.array(USCC_WEIGHTS)) % 31) % 31
    check_chars = pl.Series(check).replace_strict(
        dict(enumerate(USCC_CHARSET)), return_dtype=pl.String
    )
    return (code17 + check_chars).alias("uscc")


# --- 行政区划代码 (GB/T 2260) ---------------------------------------------------


@_per_distinct
def region_code_problems(codes: pl.Series, known: pl.Series) -> pl.DataFrame:
    """6-digit codes in `known`; 12-digit statistical codes are cut to their county part."""
    frame = _frame(codes).with_columns(code=_t.str.replace(r"\.0+$", ""))
    code = pl.col("code")
    frame = frame.with_columns(
        code=pl.when(code.str.contains(r"^[0-9]{12}$")).then(code.str.slice(0, 6)).otherwise(code)
    )
    frame = frame.with_columns(
        shaped=code.str.contains(r"^[0-9]{6}$"), listed=code.is_in(known.cast(pl.String).implode())
    )
    return _finish(
        frame,
        code,
        (code.is_null(), "缺少行政区划代码", "missing region code"),
        (~pl.col("shaped"), "行政区划代码应为 6 位数字", "region code must be 6 digits"),
        (
            ~pl.col("listed"),
            "行政区划代码不在区划代码表中",
            "region code is not in the list of region codes",
        ),
    )


def is_valid_region_code(code: object, known: Iterable[str]) -> bool:
    return (
        isinstance(code, str) and re.fullmatch(r"[0-9]{6}", code) is not None and code in set(known)
    )


# --- 国民经济行业分类 (GB/T 4754-2017) ------------------------------------------

# Section letter of each two-digit division.
_SECTIONS = (
    ("A", 1, 5),
    ("B", 6, 12),
    ("C", 13, 43),
    ("D", 44, 46),
    ("E", 47, 50),
    ("F", 51, 52),
    ("G", 53, 60),
    ("H", 61, 62),
    ("I", 63, 65),
    ("J", 66, 69),
    ("K", 70, 70),
    ("L", 71, 72),
    ("M", 73, 75),
    ("N", 76, 79),
    ("O", 80, 82),
    ("P", 83, 83),
    ("Q", 84, 85),
    ("R", 86, 90),
    ("S", 91, 96),
    ("T", 97, 97),
)
SECTION_OF_DIVISION: Mapping[str, str] = {
    f"{d:02d}": letter for letter, low, high in _SECTIONS for d in range(low, high + 1)
}
# "1340", "C1340", "C 1340", "C-1340", "13 40", "1340.0", "C1340 制糖业".
_INDUSTRY = (
    r"^(?<letter>[A-T])?\s?-?\s?(?<division>[0-9]{2})\s?(?<rest>[0-9]{2})(?:\.0+)?"
    r"(?:\s?[(\p{Han}].*)?$"
)


@_per_distinct
def industry_code_problems(codes: pl.Series) -> pl.DataFrame:
    """Canonical 4-digit class codes; the section letter, if given, must fit the division."""
    frame = (
        _frame(codes)
        .with_columns(parts=_t.str.to_uppercase().str.extract_groups(_INDUSTRY))
        .unnest("parts")
    )
    letter, division = pl.col("letter"), pl.col("division")
    frame = frame.with_columns(
        section=division.replace_strict(SECTION_OF_DIVISION, default=None, return_dtype=pl.String)
    )
    section = pl.col("section")
    return _finish(
        frame,
        pl.concat_str(division, pl.col("rest")),
        (
            _t.is_not_null() & division.is_null(),
            "行业代码应为 4 位国民经济行业小类代码（如 1340 或 C1340；"
            "以 0 开头的请把该列设为文本格式）",
            "industry code must be a 4-digit GB/T 4754 class (e.g. 1340 or C1340; "
            "format the column as text to keep leading zeros)",
        ),
        (
            _t.is_not_null() & section.is_null(),
            pl.format("行业大类 {} 不存在", division),
            pl.format("industry division {} does not exist", division),
        ),
        (
            letter.is_not_null() & (letter != section),
            pl.format("行业门类 {} 与大类 {} 不一致（应为 {}）", letter, division, section),
            pl.format(
                "industry section {} does not match division {} (should be {})",
                letter,
                division,
                section,
            ),
        ),
    )


# --- 日期 ---------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's 1900-02-29


@_per_distinct
def date_problems(texts: pl.Series, today: date) -> pl.DataFrame:
    """Dates as 2019-03-01, 2019/3/1, 2019.3.1, 2019年3月1日, 20190301 or Excel serials."""
    time_of_day = r"[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?$"
    frame = _frame(texts).with_columns(day=_t.str.replace(time_of_day, ""))
    day = pl.col("day")
    frame = frame.with_columns(
        serial=day.str.contains(r"^[0-9]{5}(?:\.[0-9]+)?$"),
        parts=(
            day.str.replace_all(r"[年月/.]", "-")
            .str.replace(r"日$", "")
            .str.replace(r"^([0-9]{4})([0-9]{2})([0-9]{2})$", "${1}-${2}-${3}")
            .str.extract_groups(r"^(?<y>[0-9]{4})-(?<m>[0-9]{1,2})-(?<d>[0-9]{1,2})$")
        ),
    ).unnest("parts")
    serial = pl.col("serial")
    # Only serial rows get a day count, so other digit strings cannot overflow the date.
    serial_days = pl.when(serial).then(
        day.cast(pl.Float64, strict=False).floor().cast(pl.Int64, strict=False)
    )
    iso = pl.concat_str(
        pl.col("y"), pl.col("m").str.zfill(2), pl.col("d").str.zfill(2), separator="-"
    )
    frame = frame.with_columns(
        parsed=pl.when(serial)
        .then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_days))
        .otherwise(iso.str.to_date("%Y-%m-%d", strict=False))
    )
    parsed = pl.col("parsed")
    none = pl.lit(None, dtype=pl.String)
    return _finish(
        frame,
        parsed,
        (_t.is_null(), none, none),
        (
            ~serial & pl.col("y").is_null(),
            "无法识别的日期（可写作 2019-03-01、2019/3/1、2019年3月1日 或 20190301）",
            "unrecognised date (write 2019-03-01, 2019/3/1, 2019年3月1日 or 20190301)",
        ),
        (parsed.is_null(), "日期不存在", "impossible date"),
        (
            parsed < pl.lit(EARLIEST_DATE),
            f"日期早于 {EARLIEST_YEAR} 年",
            f"date before {EARLIEST_YEAR}",
        ),
        (parsed > pl.lit(today), "日期晚于今天", "date is in the future"),
    )


# --- 金额 → 万元人民币 -----------------------------------------------------------

# CNY per unit of foreign currency: approximate 2024 averages of the PBOC central
# parity, rounded. Good enough to rank firms, not for accounting (docs/ingest.md).
CNY_PER_UNIT: Mapping[str, float] = {
    "CNY": 1.0,
    "USD": 7.12,
    "HKD": 0.91,
    "EUR": 7.73,
    "JPY": 0.047,
    "GBP": 9.10,
}
# Multiplier from a magnitude word to 万 (10,000).
MAGNITUDE_IN_WAN: Mapping[str, float] = {
    "千": 0.1,
    "万": 1.0,
    "十万": 10.0,
    "百万": 100.0,
    "千万": 1_000.0,
    "亿": 10_000.0,
}
# Checked in this order: "HK$" must be HKD before "$" reads as USD.
_CURRENCY_PATTERNS = (
    ("HKD", r"港元|港币|HKD|HK\$"),
    ("USD", r"美元|美金|USD|\$"),
    ("EUR", r"欧元|EUR|€"),
    ("JPY", r"日元|JPY"),
    ("GBP", r"英镑|GBP|£"),
    ("CNY", r"人民币|RMB|CNY|¥|圆|(?:^|[^美港欧日])元"),
)
_CURRENCY_WORDS = r"元|圆|人民币|美元|美金|港元|港币|欧元|日元|英镑|RMB|CNY|USD|HKD|EUR|JPY|GBP"
_AMOUNT = (
    r"^(?<prefix>人民币|RMB|CNY|¥|USD|US\$|HKD|HK\$|\$|EUR|€|JPY|GBP|£)?"
    r"(?<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:E[+-]?[0-9]+)?)"
    r"(?<magnitude>千万|百万|十万|万|亿|千)?"
    rf"(?<suffix>(?:{_CURRENCY_WORDS})*)$"
)


def _currency(named: pl.Expr) -> pl.Expr:
    """The currency code of the first matching pattern, or null."""
    currency = pl.lit(None, dtype=pl.String)
    for code, pattern in reversed(_CURRENCY_PATTERNS):
        currency = pl.when(named.str.contains(pattern)).then(pl.lit(code)).otherwise(currency)
    return currency


def money_unit(unit: str | None) -> tuple[float, str]:
    """(multiplier to 万, currency) declared by a header unit such as "万元" or "万美元".

    A magnitude (万, 亿, 千, 百万, million …) gives the multiplier; a currency or
    元 alone means single units; no recognisable unit means 万元.
    """
    text = (unit or "").upper().replace(" ", "")
    currency = next(
        (code for code, pattern in _CURRENCY_PATTERNS if re.search(pattern, text)), None
    )
    for word, factor in (
        ("亿", 1e4),
        ("100MILLION", 1e4),
        ("千万", 1e3),
        ("百万", 100.0),
        ("MILLION", 100.0),
        ("MN", 100.0),
        ("万", 1.0),
        ("10K", 1.0),
        ("10,000", 1.0),
        ("千", 0.1),
        ("THOUSAND", 0.1),
    ):
        if word in text:
            return factor, currency or "CNY"
    if currency is not None or "YUAN" in text:
        return 1e-4, currency or "CNY"
    return 1.0, "CNY"


def _amount_parts(texts: pl.Series, default_factor: float, default_currency: str) -> pl.DataFrame:
    """Number, multiplier to 万 and CNY rate of amounts written with units or currency."""
    frame = (
        _frame(texts)
        .with_columns(
            parts=_t.str.to_uppercase().str.replace_all(r"[,\s]", "").str.extract_groups(_AMOUNT)
        )
        .unnest("parts")
    )
    named = pl.concat_str(pl.col("prefix").fill_null(""), pl.col("suffix").fill_null(""))
    magnitude = pl.col("magnitude")
    return frame.select(
        amount=pl.col("number").cast(pl.Float64, strict=False),
        factor=pl.when(magnitude.is_not_null())
        .then(magnitude.replace_strict(MAGNITUDE_IN_WAN, default=None, return_dtype=pl.Float64))
        .when(named != "")
        .then(pl.lit(1e-4))
        .otherwise(pl.lit(default_factor)),
        rate=_currency(named)
        .fill_null(pl.lit(default_currency))
        .replace_strict(CNY_PER_UNIT, default=None, return_dtype=pl.Float64),
    )


@_per_distinct
def amount_problems(texts: pl.Series, unit: str | None = None) -> pl.DataFrame:
    """Amounts in 万元 CNY from "500", "500万元", "5,000,000元", "1.2亿", "300万美元" …

    A magnitude word in the value (万, 亿 …) wins; else a currency word or 元
    means single units ("5,000,000元", "300美元"); else a bare number is in the
    header's unit (万元 by default). Foreign currencies use CNY_PER_UNIT.
    """
    default_factor, default_currency = money_unit(unit)
    # Plain numbers (most revenue columns) need no pattern: cast them directly.
    amount = texts.cast(pl.Float64, strict=False).alias("amount")
    factor = pl.Series("factor", np.full(len(texts), default_factor))
    rate = pl.Series("rate", np.full(len(texts), CNY_PER_UNIT[default_currency]))
    written = (texts.is_not_null() & amount.is_null()).arg_true()
    if len(written):
        parts = _amount_parts(texts.gather(written), default_factor, default_currency)
        amount = amount.clone().scatter(written, parts["amount"])
        factor = factor.scatter(written, parts["factor"])
        rate = rate.scatter(written, parts["rate"])
    frame = _frame(texts).with_columns(amount, wan=amount * factor * rate)
    amount_, wan = pl.col("amount"), pl.col("wan")
    none = pl.lit(None, dtype=pl.String)
    return _finish(
        frame,
        wan,
        (_t.is_null(), none, none),
        (
            amount_.is_null(),
            "无法识别的金额（可写作 500、500万元、5,000,000元、1.2亿元）",
            "unrecognised amount (write 500, 500万元, 5,000,000元 or 1.2亿元)",
        ),
        (amount_ < 0, "金额不能为负数", "amount must not be negative"),
        (~wan.is_finite(), "金额数值过大", "amount is too large"),
    )


# --- 从业人数、年度 ---------------------------------------------------------------


@_per_distinct
def employee_problems(texts: pl.Series) -> pl.DataFrame:
    """Non-negative whole numbers: "120", "1,200", "120人", "120.0"."""
    frame = _frame(texts).with_columns(
        digits=_t.str.replace_all(r"[,\s]", "").str.extract(r"^([0-9]{1,9})(?:\.0+)?人?$", 1)
    )
    digits = pl.col("digits")
    return _finish(
        frame,
        digits.cast(pl.Int64),
        (
            _t.is_not_null() & digits.is_null(),
            "从业人数应为不小于 0 的整数",
            "employees must be a whole number ≥ 0",
        ),
    )


@_per_distinct
def year_problems(texts: pl.Series, today: date) -> pl.DataFrame:
    """Four-digit years from 1949 to this year: "2023", "2023年", "2023年度", "2023.0"."""
    frame = _frame(texts).with_columns(
        year=_t.str.extract(r"^([0-9]{4})(?:\.0+|年度?)?$", 1).cast(pl.Int64)
    )
    year = pl.col("year")
    return _finish(
        frame,
        year,
        (
            _t.is_not_null() & year.is_null(),
            "年度应为 4 位年份（如 2023）",
            "year must be a four-digit year (e.g. 2023)",
        ),
        (
            (year < EARLIEST_YEAR) | (year > today.year),
            f"年度应在 {EARLIEST_YEAR}–{today.year} 之间",
            f"year must be between {EARLIEST_YEAR} and {today.year}",
        ),
    )


# --- 企业标签 ---------------------------------------------------------------------

TAG_VOCABULARY = ("上市", "专精特新小巨人", "专精特新", "高新技术企业")
_LISTED = (
    r"^(?:A股|B股|H股|港股|美股|主板|中小板|创业板|科创板|北交所|深交所|上交所|沪市|深市"
    r"|境内|境外|海外)?上市(?:公司|企业)?$"
)
_HIGH_TECH = r"^(?:国家级?|省级?|市级?)?(?:高新技术(?:企业)?|高新企业|高新|高企|国高新)$"


def _tag_of(raw: pl.Expr) -> pl.Expr:
    return (
        pl.when(raw.str.contains("小巨人"))
        .then(pl.lit("专精特新小巨人"))
        .when(raw.str.contains("专精特新"))
        .then(pl.lit("专精特新"))
        .when(raw.str.contains(_HIGH_TECH))
        .then(pl.lit("高新技术企业"))
        .when(raw.str.contains(_LISTED))
        .then(pl.lit("上市"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


@_per_distinct
def tag_values(texts: pl.Series) -> pl.DataFrame:
    """Columns `value` (known tags `;`-joined in vocabulary order) and `unknown` (`、`-joined).

    Variants map onto the vocabulary: 国家级专精特新"小巨人"企业 and 小巨人 →
    专精特新小巨人; 国家高新技术企业, 高新技术, 高企 → 高新技术企业; A股上市,
    上市公司 → 上市. Unknown tags are dropped from the value and reported as notes.
    """
    frame = _frame(texts).with_columns(
        items=_t.str.replace_all(r"[\"'“”‘’「」『』《》]", "")
        .str.replace_all(r"[;；,，、|/\s]+", ";")
        .str.strip_chars(";")
        .str.split(";")
    )
    items, element = pl.col("items"), pl.element()
    frame = frame.with_columns(
        known=items.list.eval(_tag_of(element)),
        unknown=items.list.eval(
            element.filter(_tag_of(element).is_null() & (element != ""))
        ).list.join("、"),
    )
    joined = pl.concat_str(
        [pl.when(pl.col("known").list.contains(tag)).then(pl.lit(tag)) for tag in TAG_VOCABULARY],
        separator=";",
        ignore_nulls=True,
    )
    unknown = pl.col("unknown")
    return frame.select(
        pl.when(joined != "").then(joined).alias("value"),
        pl.when(unknown != "").then(unknown).alias("unknown"),
    )


# --- 是否合成 -------------------------------------------------------------------

_TRUE = ("true", "t", "1", "yes", "y", "是")
_FALSE = ("false", "f", "0", "no", "n", "否")


@_per_distinct
def bool_problems(texts: pl.Series) -> pl.DataFrame:
    """true/false, 是/否, 1/0 …; absent means false."""
    lowered = _t.str.to_lowercase()
    frame = _frame(texts).with_columns(
        flag=pl.when(lowered.is_in(_TRUE))
        .then(True)
        .when(lowered.is_in(_FALSE))
        .then(False)
        .when(_t.is_null())
        .then(False)
        .otherwise(None)
    )
    flag = pl.col("flag")
    return _finish(
        frame, flag, (flag.is_null(), "应为 是/否 或 true/false", "must be true/false or 是/否")
    )


# --- scalar forms -------------------------------------------------------------


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _run_scalar(check: Callable[[pl.Series], pl.DataFrame], value: object) -> Parsed[Any]:
    texts = clean_series(pl.Series([_as_text(value)], dtype=pl.String))
    result, zh, en = check(texts).row(0)
    return Parsed(None if zh else result, zh, en)


def parse_date(value: object, today: date | None = None) -> Parsed[date]:
    """A date from text, an Excel serial number, a date or a datetime."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        value = value.isoformat()
    return _run_scalar(lambda s: date_problems(s, today or date.today()), value)


def parse_amount(value: object, unit: str | None = None) -> Parsed[float]:
    """An amount in 万元 CNY (see `amount_problems`)."""
    return _run_scalar(lambda s: amount_problems(s, unit), value)


def parse_employees(value: object) -> Parsed[int]:
    return _run_scalar(employee_problems, value)


def parse_year(value: object, today: date | None = None) -> Parsed[int]:
    return _run_scalar(lambda s: year_problems(s, today or date.today()), value)


def parse_industry_code(value: object) -> Parsed[str]:
    """Canonical 4-digit GB/T 4754 class code ("C 1340" → "1340")."""
    return _run_scalar(industry_code_problems, value)


def parse_tags(value: str | None) -> tuple[str | None, str | None]:
    """(known tags `;`-joined, unknown tags `、`-joined) for one cell."""
    known, unknown = tag_values(clean_series(pl.Series([value], dtype=pl.String))).row(0)
    return known, unknown
