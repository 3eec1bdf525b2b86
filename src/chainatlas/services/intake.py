"""Document intake service: a report file (or pasted text, or an upload) → draft meeting record.

Reads .txt / .md / .html / .htm in UTF-8 (BOM optional), GBK / GB18030 or Big5 (the
detection of `ingest.readers.decode_bytes`), turns HTML into text without the page's
navigation, header, footer, share bars and scripts, and calls the pure
`chainatlas.cppcc.intake.extract_meeting`. Errors a user can fix are `UserError`s.

CLI: `chainatlas intake FILE --format json|table` calls `intake_file` and prints
`draft_json(draft)` or `intake_table(draft)`; the web app calls `intake_upload` or
`intake_text` and shows the draft for a person to confirm.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from rich.table import Table

from chainatlas.atlas.model import Chain
from chainatlas.cppcc.intake import extract_meeting
from chainatlas.cppcc.intake_model import Evidence, MeetingDraft
from chainatlas.cppcc.intake_text import normalize_lines, published_date
from chainatlas.errors import UserError
from chainatlas.ingest.errors import IngestError
from chainatlas.ingest.readers import decode_bytes

__all__ = [
    "MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "MeetingDraft",
    "PageText",
    "draft_json",
    "html_to_text",
    "intake_file",
    "intake_table",
    "intake_text",
    "intake_upload",
    "parse_published",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_BYTES = 5 * 1024 * 1024  # a meeting report is a few KiB; a page with inline images more
_HTML_SUFFIXES = (".html", ".htm")
_LOOKS_HTML = re.compile(r"<(?:!doctype\s+html|html|body|div|p|br|span|article)\b", re.I)
_BINARY_MAGIC = {
    b"%PDF": "PDF",
    b"PK\x03\x04": "Word/Excel/ZIP",
    b"\xd0\xcf\x11\xe0": "Word/Excel (97-2003)",
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
}


def parse_published(value: dt.date | str | None) -> dt.date | None:
    """The article's date from a date or a 'YYYY-MM-DD' string (as the CLI option gives)."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"发布日期「{value}」格式不对：请写成 YYYY-MM-DD，例如 2025-07-16",
            f"published date '{value}' is not valid: write it as YYYY-MM-DD, e.g. 2025-07-16",
        ) from None


def intake_file(
    path: str | Path,
    *,
    published: dt.date | str | None = None,
    atlas: Mapping[str, Chain] | None = None,
) -> MeetingDraft:
    """Read a report file into a draft meeting record (`chainatlas intake FILE`)."""
    source = Path(path)
    if not source.is_file():
        raise UserError(f"找不到文件：{source}", f"file not found: {source}")
    _check_suffix(source.name)
    if source.stat().st_size > MAX_BYTES:
        raise _too_large(source.stat().st_size)
    return intake_upload(source.read_bytes(), source.name, published=published, atlas=atlas)


def intake_upload(
    data: bytes,
    filename: str,
    *,
    published: dt.date | str | None = None,
    atlas: Mapping[str, Chain] | None = None,
) -> MeetingDraft:
    """An uploaded file's bytes; `filename` gives the type (.txt/.md/.html/.htm)."""
    suffix = _check_suffix(filename)
    if len(data) > MAX_BYTES:
        raise _too_large(len(data))
    text = _decode(data)
    if suffix in _HTML_SUFFIXES:
        return _from_page(html_to_text(text), published, atlas)
    return intake_text(text, published=published, atlas=atlas, markdown=suffix == ".md")


def intake_text(
    text: str,
    *,
    published: dt.date | str | None = None,
    atlas: Mapping[str, Chain] | None = None,
    markdown: bool = False,
) -> MeetingDraft:
    """Pasted text (the web form): plain text, Markdown, or a page's HTML source."""
    if "\x00" in text:
        raise _not_text("NUL")
    if _LOOKS_HTML.search(text[:20000]):
        return _from_page(html_to_text(text), published, atlas)
    if markdown:
        text = _strip_markdown(text)
    return extract_meeting(text, published=parse_published(published), atlas=atlas)


def draft_json(draft: MeetingDraft) -> str:
    """The draft as the `chainatlas.intake/1` JSON document (UTF-8, not ASCII-escaped)."""
    return draft.model_dump_json(by_alias=True, indent=2) + "\n"


# --- reading ------------------------------------------------------------------


def _check_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "（无扩展名）"
        raise UserError(
            f"不支持的文件类型 {shown}：请上传 .txt、.md、.html 或 .htm 文件"
            "（Word/PDF 请另存为网页或纯文本）",
            f"unsupported file type {suffix or '(none)'}: use .txt, .md, .html or .htm "
            "(save Word or PDF documents as a web page or plain text)",
        )
    return suffix


def _too_large(size: int) -> UserError:
    limit = MAX_BYTES // (1024 * 1024)
    mib = size / (1024 * 1024)
    return UserError(
        f"文件过大（{mib:.1f} MB，上限 {limit} MB）：会议报道只需正文",
        f"the file is too large ({mib:.1f} MB, limit {limit} MB): a report needs only its text",
    )


def _not_text(what: str) -> UserError:
    return UserError(
        f"这不是文本文件（看起来是 {what}）：请上传 .txt、.md 或 .html 格式的会议报道",
        f"this is not a text file (it looks like {what}): upload the report as .txt, .md or .html",
    )


def _decode(data: bytes) -> str:
    if not data.strip():
        raise UserError("文件为空", "the file is empty")
    for magic, kind in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise _not_text(kind)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _not_text("binary data / 二进制数据")
    try:
        text, _ = decode_bytes(data)
    except IngestError as error:
        raise UserError(error.message_zh, error.message_en) from None
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t\x0c")
    if controls > 8:
        raise _not_text("binary data / 二进制数据")
    return text


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_LINE_MARK = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+(?!\S*\s*$))", re.M)


def _strip_markdown(text: str) -> str:
    text = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", text))
    text = _MD_LINE_MARK.sub("", text)
    return text.replace("**", "").replace("__", "")


# --- HTML ---------------------------------------------------------------------

_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "iframe",
        "select",
        "button",
        "head",
        "object",
        "canvas",
        "menu",
        "dialog",
    }
)
_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "main",
        "dd",
        "dt",
        "dl",
        "blockquote",
        "pre",
        "title",
        "hr",
        "figure",
        "figcaption",
        "td",
        "th",
    }
)
# id/class words of page furniture (class="top-nav", id="footer", class="share-bar" …).
_CLUTTER_ATTR = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|footer|foot|header|topbar|breadcrumbs?|crumbs?|"
    r"share|sharebar|comments?|sidebar|side|copyright|related|recommend|ads?|advert|banner|"
    r"login|search|toolbar|pager|pagination|friendlinks?|links|tools|qrcode|gotop)"
    r"(?:$|[\s_-])",
    re.I,
)
_PUBLISHED_META = frozenset(
    {
        "publishdate",
        "pubdate",
        "publish_date",
        "publishtime",
        "publish_time",
        "article:published_time",
        "og:release_date",
        "datepublished",
        "dc.date",
        "dc.date.issued",
        "firstpublishedtime",
        "releasedate",
    }
)
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||-{1,2}|—|–)\s*")
_SENTENCE_MARK = re.compile(r"[。!?;！？；]")
_MIN_MENU_LINE = 9


@dataclass
class PageText:
    """A web page reduced to its report: text lines, title and the page's own date."""

    text: str
    title: str | None
    published: dt.date | None


class _Collector(HTMLParser):
    """Text lines of a page outside its furniture, plus its <title>, <h1> and date metas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # open elements: (tag, starts a skipped part)
        self.head_title: list[str] = []
        self.h1: list[str] = []
        self.h1_line: int | None = None
        self.meta_dates: list[str] = []
        self.skipped_text: list[str] = []
        self._in_title = False
        self._in_h1 = False

    @property
    def skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def _break(self) -> None:
        line = "".join(self.current).strip()
        if line:
            self.lines.append(line)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta":
            key = values.get("name") or values.get("property") or values.get("itemprop") or ""
            if key.lower() in _PUBLISHED_META and values.get("content"):
                self.meta_dates.append(values["content"] or "")
            return
        if tag == "time" and values.get("datetime"):
            self.meta_dates.append(values["datetime"] or "")
        if tag in _BLOCK_TAGS:
            self._break()
        if tag == "title":
            self._in_title = True
        if tag == "h1" and not self.skipping:
            self._in_h1 = True
            if self.h1_line is None:
                self.h1_line = len(self.lines)
        if tag in _VOID_TAGS:
            return
        marks = " ".join(v or "" for k, v in attrs if k in ("id", "class", "role"))
        skip = tag in _SKIP_TAGS or bool(_CLUTTER_ATTR.search(marks)) or "navigation" in marks
        self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._break()
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.head_title.append(data)
            return
        if self.skipping:
            self.skipped_text.append(data)
            return
        if self._in_h1:
            self.h1.append(data)
        self.current.append(data)


def html_to_text(html: str) -> PageText:
    """The report inside a web page: from its <h1> (or first line) to the last sentence."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    collector._break()
    lines = collector.lines
    h1_at = 0 if collector.h1_line is not None else -1  # the title line stays, however short
    if collector.h1_line is not None:
        lines = lines[collector.h1_line :]
    # Menus and link lists: short lines without a sentence mark, before and after the body.
    marked = [i for i, line in enumerate(lines) if _SENTENCE_MARK.search(line)]
    if marked:
        last = marked[-1]
        lines = [
            line
            for i, line in enumerate(lines)
            if i <= last
            and (len(line) >= _MIN_MENU_LINE or _SENTENCE_MARK.search(line) or i == h1_at)
        ]
    title = " ".join("".join(collector.h1).split()) or _page_title("".join(collector.head_title))
    return PageText("\n".join(lines), title, _page_date(collector))


def _page_title(text: str) -> str | None:
    """'市政协召开… _ 梧州日报 - 梧州零距离网' → the longest part, the article's own title."""
    parts = [p for p in _TITLE_SEPARATORS.split(" ".join(text.split())) if p]
    return max(parts, key=len) if parts else None


def _page_date(collector: _Collector) -> dt.date | None:
    for value in collector.meta_dates:
        match = re.match(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})", value)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                continue
    # 发布时间 lines often sit in a skipped info bar above the article.
    for line in normalize_lines("\n".join(collector.skipped_text + collector.lines)):
        found = published_date(line)
        if found is not None:
            return found
    return None


def _from_page(
    page: PageText, published: dt.date | str | None, atlas: Mapping[str, Chain] | None
) -> MeetingDraft:
    return extract_meeting(
        page.text,
        title=page.title,
        published=parse_published(published) or page.published,
        atlas=atlas,
    )


# --- table --------------------------------------------------------------------


def _clip(evidence: Evidence | None, width: int = 60) -> str:
    if evidence is None:
        return ""
    text = evidence.text
    return text if len(text) <= width else text[: width - 1] + "…"


def intake_table(draft: MeetingDraft) -> Table:
    """The draft as a rich table: field, value, and the sentence it was read from."""
    table = Table("字段 field", "值 value", "依据 evidence", show_lines=False)
    if draft.title:
        table.add_row("标题 title", draft.title, "")
    if draft.meeting_name:
        table.add_row("会议 meeting", draft.meeting_name, "")
    if draft.date:
        when = (
            draft.date.value.isoformat()
            if draft.date.value
            else f"?-{draft.date.month:02d}-{draft.date.day:02d}"
        )
        source = f" ({draft.date.year_source})" if draft.date.year_source else ""
        table.add_row("日期 date", when + source, _clip(draft.date.evidence))
    if draft.published:
        table.add_row("发布 published", draft.published.isoformat(), "")
    if draft.region:
        r = draft.region
        table.add_row("地区 region", f"{r.full_name} {r.region_code} ×{r.count}", _clip(r.evidence))
    for r in draft.other_regions:
        table.add_row("", f"{r.full_name} {r.region_code} ×{r.count}", _clip(r.evidence))
    kind = draft.kind.kind + (
        f"/{draft.kind.consultation_kind}" if draft.kind.consultation_kind else ""
    )
    table.add_row("类型 kind", kind, "、".join(draft.kind.matched))
    if draft.topic:
        table.add_row("主题 topic", draft.topic.text, f"({draft.topic.source})")
    for leader in draft.leaders:
        table.add_row(
            "领导 leader",
            f"{leader.title} {leader.name} [{', '.join(leader.roles)}]",
            _clip(leader.evidence),
        )
    for p in draft.participants:
        spoke = " 发言 spoke" if p.spoke else ""
        people = f" ({'、'.join(p.speakers)})" if p.speakers else ""
        table.add_row("党派/界别 group", f"{p.name}{people}{spoke} ×{p.count}", _clip(p.evidence))
    for c in draft.chains:
        words = "、".join(m.text for m in c.matched[:5])
        table.add_row("产业链 chain", f"{c.name_zh} ({c.chain_id}) ×{c.count}", words)
    for a in draft.actions:
        table.add_row("行动 action", f"{a.action} ×{a.count}", "、".join(a.matched))
    for f in draft.figures:
        table.add_row("数据 figure", f"{f.value:g} {f.unit}", _clip(f.evidence))
    for note in draft.notes:
        table.add_row("[yellow]提示 note[/]", note.message_zh, note.message_en)
    return table
