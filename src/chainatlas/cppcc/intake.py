"""Document intake: a meeting report or news article in, a draft meeting record out.

Pure: text in, `MeetingDraft` out — no files, database or settings (the service
`chainatlas.services.intake` reads files and strips HTML). Each value carries the
sentence it was read from, so a person can confirm it before saving. The steps:

1. prepare: drop pinyin annotations and page clutter, normalise (繁→简, NFKC), find the
   headline lines and sentences (`intake_text.prepare`);
2. the meeting's name (…会 after 召开/举行, or before 在…召开), its kind (调度会/推进会 →
   review_meeting; 协商 → consultation, with 专题/对口/界别/双月) and topic (a stated theme
   such as 围绕“…”主题, else the meeting's name, else the title);
3. the date: the first date in the body's meeting sentence or dateline; a missing year comes
   from the article's date, else a year in the same sentence, else the nearest year before;
4. the place: region names (full and short) and 我市/本市 self references, resolved to
   GB/T 2260 codes; the most mentioned, then most specific, wins;
5. leaders by title, parties and sectors (with whether they spoke), chains from the atlas,
   actions (建链/补链/延链/强链 and tags), figures with units.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from chainatlas.atlas.model import Chain
from chainatlas.cppcc.intake_index import (
    ChainIndex,
    ChainTerm,
    Lexicon,
    Region,
    RegionIndex,
    build_chain_index,
    default_chain_index,
    default_region_index,
)
from chainatlas.cppcc.intake_lexicon import (
    ACTION_NOT_BEFORE,
    ACTIONS,
    CHAIN_ACTIONS,
    CONSULTATION_CUES,
    CONSULTATION_KINDS,
    COUNTED_NOUNS,
    MAGNITUDE_FOLLOWERS,
    MAGNITUDES,
    NUMERAL_IDIOMS,
    REVIEW_CUES,
    TARGET_YEAR_WORDS,
    UNITS,
)
from chainatlas.cppcc.intake_model import (
    SCHEMA_ID,
    ActionId,
    ActionMention,
    ChainMention,
    ConsultationKind,
    Evidence,
    Figure,
    MatchedTerm,
    MeetingDate,
    MeetingDraft,
    MeetingKind,
    MeetingKindId,
    Note,
    RegionMention,
    Topic,
    YearSource,
)
from chainatlas.cppcc.intake_people import find_leaders, find_participants, group_spans
from chainatlas.cppcc.intake_text import (
    CN_NUMERAL_CHARS,
    FULL_DATE,
    ISO_DATE,
    MONTH_DAY,
    YEAR,
    Document,
    cn_number,
    longest_first,
    parse_ymd,
    prepare,
    small_int,
)
from chainatlas.errors import UserError

__all__ = ["SCHEMA_ID", "MeetingDraft", "extract_meeting"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_MIN_CJK = 10


def extract_meeting(
    text: str,
    *,
    title: str | None = None,
    published: dt.date | None = None,
    atlas: Mapping[str, Chain] | None = None,
    regions: RegionIndex | None = None,
) -> MeetingDraft:
    """Read a meeting report into a draft record.

    `title`: the page's title when the text lacks it (HTML <h1>/<title>); `published`: the
    article's date, used for a date written without its year (a 发布时间 line in the text
    is used when this is not given); `atlas`: chains to look for (default: the shipped
    atlas); `regions`: a region index (default: all of China). Raises `UserError` when the
    text holds too little Chinese to be a report.
    """
    doc = prepare(text, title)
    if len(_CJK.findall(doc.text)) < _MIN_CJK:
        raise UserError(
            "文本为空或不是中文会议报道：请粘贴或上传会议新闻稿、会议纪要的正文",
            "the text is empty or not a Chinese meeting report: paste or upload the body of "
            "a meeting report or news article",
        )
    if atlas is None:
        atlas, chain_index = default_chain_index()
    else:
        chain_index = build_chain_index(atlas)
    published = published or doc.published
    notes: list[Note] = []

    meeting_name, name_span = _meeting_name(doc)
    date = _meeting_date(doc, published, notes)
    places = _regions(doc, regions or default_region_index())
    if not places:
        notes.append(Note(message_zh="未识别到地区", message_en="no region found"))
    title_line = max(doc.headline, key=len) if doc.headline else None
    return MeetingDraft(
        title=title_line,
        headline=list(doc.headline),
        meeting_name=meeting_name,
        published=published,
        date=date,
        region=places[0] if places else None,
        other_regions=places[1:],
        kind=_meeting_kind(doc, meeting_name, name_span),
        topic=_topic(doc, meeting_name, name_span, title_line),
        leaders=find_leaders(doc),
        participants=find_participants(doc),
        chains=_chains(doc, atlas, chain_index),
        actions=_actions(doc),
        figures=_figures(doc),
        notes=notes,
        text=doc.text,
    )


# --- meeting name, kind, topic ------------------------------------------------

_NAME_CHARS = r"[^,。;:!?、()\n]"
_CONVENED = re.compile(
    rf"(?:召开|举行|举办|召集)了?(?P<name>{_NAME_CHARS}{{2,60}}?(?:会议|会|论坛))"
    rf"(?=[,。;:!?、(\n]|$|上|时|期间)"
)
_NAMED_BEFORE = re.compile(
    rf"(?P<name>{_NAME_CHARS}{{2,60}}?(?:会议|会|论坛))(?:在[^,。;]{{1,15}}?|于[^,。;]{{1,15}}?)?"
    r"(?:召开|举行|举办)"
)
_IN_HEADLINE = re.compile(rf"在(?P<name>{_NAME_CHARS}{{2,60}}?(?:会议|会|论坛))上")
_LEADING_TIME = re.compile(
    r"^(?:\d{1,2}月\d{1,2}日)?(?:上午|下午|晚上|晚间|晚|早上)?(?:日前|近日|近期|昨天|今天|昨日|今日)?"
)


def _meeting_name(doc: Document) -> tuple[str | None, tuple[int, int] | None]:
    """The meeting's name as written, from the first sentence of the body naming it."""
    body = doc.text[doc.body_start :]
    candidates = []
    for pattern in (_CONVENED, _NAMED_BEFORE):
        found = pattern.search(body)
        if found:
            candidates.append((found.start("name") + doc.body_start, found.group("name")))
    in_headline = _IN_HEADLINE.search(doc.text[: doc.body_start])
    if not candidates and in_headline:
        candidates.append((in_headline.start("name"), in_headline.group("name")))
    if not candidates:
        return None, None
    start, name = min(candidates)
    cleaned = _LEADING_TIME.sub("", name)
    start += len(name) - len(cleaned)
    if len(cleaned) < 3:
        return None, None
    return cleaned, (start, start + len(cleaned))


def _cues(text: str, cues: tuple[str, ...]) -> list[re.Match[str]]:
    return list(re.finditer(longest_first(cues), text)) if text else []


def _meeting_kind(doc: Document, name: str | None, span: tuple[int, int] | None) -> MeetingKind:
    kind: MeetingKindId = "other"
    matched: list[str] = []
    evidence: Evidence | None = None
    if name and span:
        review, consult = _cues(name, REVIEW_CUES), _cues(name, CONSULTATION_CUES)
        if consult or "协商" in name:
            kind, matched = "consultation", [m.group() for m in consult] or ["协商"]
        elif review:
            kind, matched = "review_meeting", [m.group() for m in review]
        if kind != "other":
            evidence = doc.evidence(*span)
    if kind == "other":
        review, consult = _cues(doc.text, REVIEW_CUES), _cues(doc.text, CONSULTATION_CUES)
        if review or consult:
            winner = consult if len(consult) >= len(review) else review
            kind = "consultation" if winner is consult else "review_meeting"
            matched = list(dict.fromkeys(m.group() for m in winner))
            evidence = doc.evidence(winner[0].start(), winner[0].end())
    consultation_kind: ConsultationKind | None = None
    if kind == "consultation":
        consultation_kind = "other"
        for where in (name or "", doc.text):
            hits = [
                (where.find(form), sub, form)
                for sub, forms in CONSULTATION_KINDS
                for form in forms
                if form in where
            ]
            if hits:
                _, sub_kind, form = min(hits)
                consultation_kind = sub_kind
                if form not in matched:
                    matched.append(form)
                if evidence is None:
                    at = doc.text.find(form)
                    evidence = doc.evidence(at, at + len(form))
                break
    return MeetingKind(
        kind=kind,
        consultation_kind=consultation_kind,
        matched=matched,
        evidence=evidence,
    )


_QUOTED = r"[“\"「『](?P<theme>[^”\"」』\n]{4,80})[”\"」』]"
_THEMES = (
    re.compile(rf"围绕{_QUOTED}(?:这一)?(?:主题|专题|议题|开展|进行|协商|建言)"),
    re.compile(rf"以{_QUOTED}为(?:主题|题|议题)"),
    re.compile(rf"(?:主题|议题)(?:为|是){_QUOTED}"),
    re.compile(rf"就{_QUOTED}(?:开展|进行|召开)?(?:专题)?(?:协商|议政|座谈)"),
    re.compile(rf"{_QUOTED}(?:专题协商|协商|专题议政|座谈|主题)"),
    re.compile(r"围绕(?P<theme>[^,。;“”\"\n]{4,40}?)(?:开展|进行)(?:专题)?(?:协商|议政|调研)"),
)


def _topic(
    doc: Document, name: str | None, span: tuple[int, int] | None, title: str | None
) -> Topic | None:
    themes = [m for pattern in _THEMES for m in pattern.finditer(doc.text)]
    if themes:
        first = min(themes, key=lambda m: m.start("theme"))
        return Topic(
            text=first.group("theme"),
            source="theme",
            evidence=doc.evidence(first.start("theme"), first.end("theme")),
        )
    if name and span:
        return Topic(text=name, source="meeting_name", evidence=doc.evidence(*span))
    if title:
        at = doc.text.find(title)
        return Topic(text=title, source="headline", evidence=doc.evidence(at, at + len(title)))
    return None


# --- date ---------------------------------------------------------------------

_MEETING_WORDS = re.compile(r"会|召开|举行|举办|协商|调度|座谈|调研|视察")
_DATELINE = re.compile(r"讯|电|报道|消息")


@dataclass(frozen=True)
class _DateFound:
    start: int
    end: int
    year: int | None
    month: int
    day: int


def _dates_in(text: str, offset: int) -> list[_DateFound]:
    found: list[_DateFound] = []
    taken: list[tuple[int, int]] = []
    for pattern, has_year in ((FULL_DATE, True), (ISO_DATE, True), (MONTH_DAY, False)):
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            year = m.group(1) if has_year else None
            month, day = (m.group(2), m.group(3)) if has_year else (m.group(1), m.group(2))
            parts = parse_ymd(year, month, day)
            if parts is None:
                continue
            taken.append((m.start(), m.end()))
            found.append(_DateFound(m.start() + offset, m.end() + offset, *parts))
    return sorted(found, key=lambda d: d.start)


def _meeting_date(
    doc: Document, published: dt.date | None, notes: list[Note]
) -> MeetingDate | None:
    body = doc.text[doc.body_start :]
    dates = _dates_in(body, doc.body_start)
    if not dates:
        notes.append(Note(message_zh="未识别到会议日期", message_en="no meeting date found"))
        return None

    def rank(found: _DateFound) -> tuple[int, int]:
        sentence = doc.sentence(found.start)
        paragraph_start = doc.text.rfind("\n", 0, found.start) + 1
        in_dateline = found.start - paragraph_start <= 40 and bool(
            _DATELINE.search(doc.text[paragraph_start : found.start])
        )
        about_meeting = bool(_MEETING_WORDS.search(sentence))
        return (0 if in_dateline or about_meeting else 1, found.start)

    chosen = min(dates, key=rank)
    year, source = _year_of(doc, chosen, published)
    if year is None:
        notes.append(
            Note(
                message_zh=f"会议日期 {chosen.month}月{chosen.day}日 未写年份：请核对年份或提供发布日期",
                message_en=f"the meeting date {chosen.month}/{chosen.day} has no year: check it "
                "or give the article's date",
            )
        )
    value = None
    if year is not None:
        try:
            value = dt.date(year, chosen.month, chosen.day)
        except ValueError:  # 29 February of a year without it
            year, source = None, None
    return MeetingDate(
        value=value,
        year=year,
        month=chosen.month,
        day=chosen.day,
        written=doc.text[chosen.start : chosen.end],
        year_source=source,
        evidence=doc.evidence(chosen.start, chosen.end),
    )


def _year_of(
    doc: Document, found: _DateFound, published: dt.date | None
) -> tuple[int | None, YearSource | None]:
    if found.year is not None:
        return found.year, "written"
    if published is not None:
        # A report published in January about 28 December is about the year before.
        late = (found.month, found.day) > (published.month, published.day)
        return published.year - (1 if late else 0), "published"
    s_start, s_end = doc.sentence_span(found.start)
    years = [
        (m.start(), year)
        for m in YEAR.finditer(doc.text)
        if (year := small_int(m.group(1))) is not None
        and 1900 <= year <= 2100
        and not any(
            doc.text[max(0, m.start() - 3) : m.start()].endswith(w) for w in TARGET_YEAR_WORDS
        )
    ]
    in_sentence = [year for at, year in years if s_start <= at < s_end]
    if in_sentence:
        return in_sentence[0], "sentence"
    before = [year for at, year in years if at < found.start]
    if before:
        return before[-1], "text"
    return None, None


# --- regions ------------------------------------------------------------------

_SELF_REFERENCES = {
    "我市": "city",
    "本市": "city",
    "我省": "province",
    "本省": "province",
    "我县": "county",
    "本县": "county",
    "我区": "county",
    "本区": "county",
}
_SELF = re.compile("|".join(_SELF_REFERENCES))
_LEVEL_DEPTH = {"province": 0, "city": 1, "county": 2}


@dataclass
class _Place:
    code: str
    count: int = 0
    matched: list[str] = field(default_factory=list)
    first: tuple[int, int] = (0, 0)

    def add(self, word: str, start: int, end: int) -> None:
        if not self.count:
            self.first = (start, end)
        self.count += 1
        if word not in self.matched:
            self.matched.append(word)


def _regions(doc: Document, index: RegionIndex) -> list[RegionMention]:
    text = doc.text
    hits = index.lexicon.scan(text)
    places: dict[str, _Place] = {}
    # Pass 1: words naming one region (a municipality's two levels count as its province).
    pending = []
    for start, end, word, forms in hits:
        codes = sorted({f.code for f in forms}, key=lambda c: _LEVEL_DEPTH[index.regions[c].level])
        top = codes[0]
        same_lineage = all(c == top or top in index.regions[c].ancestors for c in codes)
        county_short = all(f.short and index.regions[f.code].level == "county" for f in forms)
        if same_lineage and not county_short:
            places.setdefault(top, _Place(top)).add(word, start, end)
        else:
            pending.append((start, end, word, codes))
    # Pass 2: an ambiguous name needs a mentioned ancestor; a county's short name (岑溪)
    # needs its full name (岑溪市), or its city and at least three characters.
    named = set(places)
    for start, end, word, codes in pending:
        fitting = []
        for code in codes:
            region = index.regions[code]
            if region.level == "county" and word != region.name:
                if not (code in named or (len(word) >= 3 and region.parent in named)):
                    continue
            elif not named & {code, *region.ancestors}:
                continue
            fitting.append(code)
        if len(fitting) == 1:
            places.setdefault(fitting[0], _Place(fitting[0])).add(word, start, end)
    if not places:
        return []
    # 我市 / 本市: the most mentioned region of that level.
    for m in _SELF.finditer(text):
        level = _SELF_REFERENCES[m.group()]
        at_level = [p for p in places.values() if _self_level(index.regions[p.code]) == level]
        if not at_level and level == "county":
            continue
        if not at_level:
            parents = {
                a
                for p in places.values()
                for a in index.regions[p.code].ancestors
                if index.regions[a].level == level
            }
            if len(parents) != 1:
                continue
            code = parents.pop()
            at_level = [places.setdefault(code, _Place(code))]
        best = max(at_level, key=lambda p: p.count)
        best.add(m.group(), m.start(), m.end())
    ranked = sorted(
        places.values(),
        key=lambda p: (-p.count, -_LEVEL_DEPTH[index.regions[p.code].level], p.first[0]),
    )
    return [_region_mention(doc, index, p) for p in ranked]


def _self_level(region: Region) -> str:
    """The level 我市/我省 refer to; a municipality (北京市) is a 市 though province-level."""
    if region.level == "province" and region.name.endswith("市"):
        return "city"
    return region.level


def _region_mention(doc: Document, index: RegionIndex, place: _Place) -> RegionMention:
    region = index.regions[place.code]
    names = [index.regions[a].name for a in reversed(region.ancestors)] + [region.name]
    full = "".join(n for i, n in enumerate(names) if i == 0 or names[i - 1] != n)
    return RegionMention(
        region_code=region.code,
        name=region.name,
        full_name=full,
        level=region.level,
        count=place.count,
        matched=place.matched,
        evidence=doc.evidence(*place.first),
    )


# --- chains -------------------------------------------------------------------


def _chains(doc: Document, atlas: Mapping[str, Chain], index: ChainIndex) -> list[ChainMention]:
    per_chain: dict[str, dict[str, tuple[ChainTerm, int]]] = {}
    first: dict[str, tuple[int, int]] = {}
    groups = group_spans(doc.text)
    for start, end, word, terms in index.lexicon.scan(doc.text):
        if any(s <= start < e for s, e in groups):
            continue
        for term in terms:
            words = per_chain.setdefault(term.chain_id, {})
            known = words.get(word)
            words[word] = (term, (known[1] if known else 0) + 1)
            first.setdefault(term.chain_id, (start, end))
    result = []
    for chain_id, words in per_chain.items():
        own_words = index.chain_words.get(chain_id, frozenset())
        strong = any(
            term.level != "keyword" or any(own in w for own in own_words)
            for w, (term, _) in words.items()
        )
        keywords = [(w, n) for w, (term, n) in words.items() if term.level == "keyword"]
        repeated = any(len(w) >= 3 and n >= 2 for w, n in keywords)
        if not (strong or len(keywords) >= 2 or repeated):
            continue  # one passing keyword does not name a chain
        matched = [
            MatchedTerm(text=w, level=term.level, node_id=term.node_id, count=n)
            for w, (term, n) in sorted(words.items(), key=lambda item: -item[1][1])
        ]
        result.append(
            ChainMention(
                chain_id=chain_id,
                name_zh=atlas[chain_id].name_zh,
                count=sum(n for _, n in words.values()),
                matched=matched,
                evidence=doc.evidence(*first[chain_id]),
            )
        )
    return sorted(result, key=lambda c: (-c.count, c.evidence.start))


# --- actions ------------------------------------------------------------------

_ACTION_WORDS: Lexicon[ActionId] = Lexicon(
    (form, action) for action, forms in ACTIONS for form in forms
)


def _actions(doc: Document) -> list[ActionMention]:
    text = doc.text
    found: dict[ActionId, ActionMention] = {}
    for start, end, word, payloads in _ACTION_WORDS.scan(text):
        action = payloads[0]
        if action in CHAIN_ACTIONS and end < len(text) and text[end] in ACTION_NOT_BEFORE:
            continue  # 组建链长办, 加强链主企业
        mention = found.get(action)
        if mention is None:
            found[action] = ActionMention(
                action=action,
                chain_action=action in CHAIN_ACTIONS,
                matched=[word],
                count=1,
                evidence=doc.evidence(start, end),
            )
        else:
            mention.count += 1
            if word not in mention.matched:
                mention.matched.append(word)
    order = [action for action, _ in ACTIONS]
    return sorted(found.values(), key=lambda a: order.index(a.action))


# --- figures ------------------------------------------------------------------

_NUMBER = (
    rf"(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?|[{CN_NUMERAL_CHARS}]+(?:点[〇零一二三四五六七八九]+)?)"
)
_UNIT = (
    rf"(?P<unit>(?:{longest_first(MAGNITUDES)})?(?:{longest_first(UNITS)})|%|‰|"
    rf"(?:{longest_first(MAGNITUDES)})(?=(?:{longest_first(MAGNITUDE_FOLLOWERS)})))"
)
_FIGURE = re.compile(rf"(?<![\d.A-Za-z]){_NUMBER}\s?{_UNIT}")
_COUNTED = re.compile(
    rf"(?<![\d{CN_NUMERAL_CHARS}])(?P<num>\d{{1,2}}|[二两三四五六七八九十]{{1,3}})大"
    rf"(?P<unit>{longest_first(COUNTED_NOUNS)})"
)


def _figure_value(number: str) -> float | None:
    if number[0].isdigit():
        return float(number.replace(",", ""))
    return cn_number(number)


def _figures(doc: Document) -> list[Figure]:
    text = doc.text
    idioms = [(m.start(), m.end()) for m in re.finditer(longest_first(NUMERAL_IDIOMS), text)]
    found: dict[tuple[float, str], Figure] = {}
    for pattern in (_FIGURE, _COUNTED):
        for m in pattern.finditer(text):
            number, unit = m.group("num"), m.group("unit")
            if any(s <= m.start() < e for s, e in idioms):
                continue
            if m.start() and text[m.start() - 1] == "第":
                continue  # 第一次: an ordinal
            is_chinese = not number[0].isdigit()
            if is_chinese and pattern is _FIGURE and number in ("一", "两") and unit in UNITS:
                continue  # 一个, 一批, 两个: articles, not figures
            value = _figure_value(number)
            if value is None:
                continue
            key = (value, unit)
            if key in found:
                found[key].count += 1
                continue
            found[key] = Figure(
                value=value,
                unit=unit,
                text=m.group(),
                count=1,
                evidence=doc.evidence(m.start(), m.end()),
            )
    return sorted(found.values(), key=lambda f: f.evidence.start)
