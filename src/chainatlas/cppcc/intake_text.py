"""Text preparation for intake: clean lines, sentences, evidence snippets, numerals, dates.

Reports arrive in traditional or simplified Chinese, copied from web pages. Some
converters annotate characters with their pinyin — 產(chǎn)業(yè) — and leave `?` for
characters they could not map; the annotations are dropped before normalising (NFKC,
whitespace, OpenCC t2s, as `chainatlas.ingest.normalize` does for every other input).
After NFKC, full-width punctuation is ASCII: `，` is `,`, `（` is `(`, `：` is `:`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from chainatlas.cppcc.intake_model import Evidence
from chainatlas.ingest.normalize import normalize_series

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SYLLABLE = rf"[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*"
# A pinyin annotation after a character: 產(chǎn).
_PINYIN = re.compile(rf"(?<=[\u3400-\u9fff\uf900-\ufaff□])[(（]{_SYLLABLE}[)）]")
# A character the converter lost, shown as `?` before its annotation (the opening
# parenthesis sometimes lost too: 日?qǐng)?bào)訊); it becomes □, not a question mark.
_LOST = re.compile(rf"\?[(（]?{_SYLLABLE}[)）]")
LOST_CHARACTER = "□"
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
# Lines that are web-page furniture, not report text.
_CLUTTER = re.compile(
    r"^(?:首页|网站首页|当前位置|您的位置|您现在的位置|位置:|责任编辑|编辑:|审核:|审校|校对|"
    r"打印|【打印|关闭|【关闭|关闭窗口|分享到|分享:|扫一扫|微信扫|上一篇|下一篇|上一条|下一条|"
    r"相关新闻|相关阅读|相关链接|相关文章|推荐阅读|热点推荐|版权所有|Copyright|©|\(c\)|"
    r"网站地图|联系我们|关于我们|主办单位|主办:|承办|技术支持|字号|【字号|【大|浏览次数|"
    r"点击数|阅读量|阅读次数|返回顶部|返回首页|登录|注册|无障碍|繁体|简体|English$)",
    re.IGNORECASE,
)
_CLUTTER_ANYWHERE = re.compile(r"ICP备|ICP证|公网安备|网安备|版权所有|All Rights Reserved", re.I)
_NAV_SEPARATORS = re.compile(r"\s*[|>»/·]\s*")

CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL_CHARS = "〇零一二两三四五六七八九十百千"

_MD = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
_CN_YEAR = "[〇零一二三四五六七八九]{4}"
FULL_DATE = re.compile(rf"(\d{{4}}|{_CN_YEAR})\s*年\s*{_MD}\s*月\s*{_MD}\s*[日号]")
ISO_DATE = re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
MONTH_DAY = re.compile(rf"(?<![\d年〇零一二三四五六七八九十]){_MD}\s*月\s*{_MD}\s*[日号]")
YEAR = re.compile(rf"(?<!\d)(\d{{4}}|{_CN_YEAR})\s*年")
# A short line naming the article's date: 发布时间:2025-05-21 10:30 来源:…
_META_LINE = re.compile(r"发布|时间|日期|来源|作者|浏览|点击|编辑|\d{1,2}:\d{2}")
_SENTENCE_END = re.compile(r"[。!?;]+|\n")
_MAX_SNIPPET = 160


def strip_pinyin(text: str) -> str:
    return _PINYIN.sub("", _LOST.sub(LOST_CHARACTER, text))


def normalize_lines(text: str) -> list[str]:
    """The text's non-empty lines, pinyin annotations dropped, normalised (繁→简)."""
    lines = _LINE_BREAK.split(strip_pinyin(text))
    normalised = normalize_series(pl.Series(lines, dtype=pl.String)).to_list()
    return [line.strip() for line in normalised if line and line.strip()]


def is_clutter(line: str) -> bool:
    """Web-page furniture: menus, share bars, copyright and editor lines."""
    if _CLUTTER.match(line) or _CLUTTER_ANYWHERE.search(line):
        return True
    # A navigation bar: several short items between separators, no sentence punctuation.
    items = [item for item in _NAV_SEPARATORS.split(line) if item]
    return (
        len(items) >= 3
        and all(len(item) <= 8 for item in items)
        and not re.search(r"[,。;!?]", line)
    )


def published_date(line: str) -> dt.date | None:
    """The article's date, when the line is a short meta line (发布时间:2025-05-21 …)."""
    if len(line) > 80 or not _META_LINE.search(line):
        return None
    for found in (FULL_DATE.search(line), ISO_DATE.search(line)):
        if found:
            return make_date(*found.groups())
    return None


def cn_number(text: str) -> float | None:
    """Chinese numerals to a number: 二十六 → 26, 一千二百 → 1200, 二〇二五 → 2025, 三点五 → 3.5."""
    if not text:
        return None
    if "点" in text:
        whole, _, fraction = text.partition("点")
        base = cn_number(whole) if whole else 0.0
        if base is None or not fraction or any(ch not in CN_DIGITS for ch in fraction):
            return None
        return float(f"{int(base)}.{''.join(str(CN_DIGITS[ch]) for ch in fraction)}")
    if all(ch in CN_DIGITS for ch in text):
        if len(text) == 1 or "〇" in text or len(text) >= 3:
            return float("".join(str(CN_DIGITS[ch]) for ch in text))
        return None  # 二三 is not a number
    total, digit = 0, None
    for ch in text:
        if ch in "零〇":
            continue  # 一百零五: a zero only holds a place
        if ch in CN_DIGITS:
            if digit is not None:
                return None
            digit = CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            return None
    return float(total + (digit or 0))


def small_int(text: str) -> int | None:
    """A month, day or year written in digits or Chinese numerals."""
    value = float(text) if text.isdigit() else cn_number(text)
    return int(value) if value is not None and value == int(value) else None


def parse_ymd(year: str | None, month: str, day: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) when they make a real date (29 February needs its year)."""
    y = small_int(year) if year else None
    m, d = small_int(month), small_int(day)
    if m is None or d is None or (y is not None and not 1900 <= y <= 2100):
        return None
    try:
        dt.date(y or 2000, m, d)  # 2000 is a leap year: any month-day that can exist
    except ValueError:
        return None
    return y, m, d


def make_date(year: str, month: str, day: str) -> dt.date | None:
    parts = parse_ymd(year, month, day)
    if parts is None or parts[0] is None:
        return None
    return dt.date(parts[0], parts[1], parts[2])


@dataclass(frozen=True)
class Document:
    """The prepared text and its sentence boundaries; offsets are into `text`."""

    text: str
    headline: tuple[str, ...]
    body_start: int
    published: dt.date | None
    sentence_ends: tuple[int, ...]

    def sentence_span(self, position: int) -> tuple[int, int]:
        """(start, end) of the sentence holding `position`, end punctuation included."""
        index = bisect.bisect_right(self.sentence_ends, position)
        start = self.sentence_ends[index - 1] if index else 0
        end = self.sentence_ends[index] if index < len(self.sentence_ends) else len(self.text)
        while start < end and self.text[start] in " \n":
            start += 1
        return start, end

    def sentence(self, position: int) -> str:
        start, end = self.sentence_span(position)
        return self.text[start:end]

    def evidence(self, start: int, end: int) -> Evidence:
        """The sentence around a match, clipped to a window when long."""
        s_start, s_end = self.sentence_span(start)
        s_end = max(s_end, min(end, len(self.text)))
        if s_end - s_start > _MAX_SNIPPET:
            half = (_MAX_SNIPPET - (end - start)) // 2
            s_start = max(s_start, start - max(half, 20))
            s_end = min(s_end, s_start + _MAX_SNIPPET)
        snippet = self.text[s_start:s_end].strip().replace("\n", " ")
        return Evidence(text=snippet, start=start, end=end)


def _is_headline(line: str) -> bool:
    """A title line: short, no sentence punctuation inside, no dateline."""
    return (
        len(line) <= 60
        and not re.search(r"[。;!?]|讯\s*\(|电\s*\(|^\(", line)
        and not re.search(r"[,:]", line[:-1])
    )


def prepare(text: str, title: str | None = None) -> Document:
    """Normalise, drop page clutter, find the headline lines and sentence boundaries."""
    lines = normalize_lines(text)
    if title:
        title_line = normalize_lines(title)
        if title_line and (not lines or lines[0] != title_line[0]):
            lines = [title_line[0], *lines]
    published = None
    kept: list[str] = []
    for line in lines:
        date = published_date(line)
        if date is not None and not re.search(r"[。]|召开|举行|会议", line):
            published = published or date  # a meta line, not report text
            continue
        if not is_clutter(line):
            kept.append(line)
    headline: list[str] = []
    for line in kept:
        if not _is_headline(line) or len(headline) >= 4:
            break
        headline.append(line)
    if len(headline) == len(kept):  # no body: the lines are the report
        headline = []
    joined = "\n".join(kept)
    body_start = sum(len(line) + 1 for line in headline)
    ends = tuple(m.end() for m in _SENTENCE_END.finditer(joined))
    return Document(joined, tuple(headline), body_start, published, ends)


def longest_first(words: Sequence[str]) -> str:
    """A regex alternation of literal words, longest first."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
