"""People and groups in a report: leaders by their titles, parties and sectors that spoke.

Leaders are found by title patterns, never by a list of names: an office title
(市委副书记、市长, 市人大常委会主任, 市政协主席 …) followed by a name that starts with a
common surname and ends where a verb or punctuation begins (市长吴劲主持会议). A
"市领导" list (市领导金力、杨甫祥、徐保月等出席) gives each name that title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chainatlas.cppcc.intake_index import Lexicon
from chainatlas.cppcc.intake_lexicon import (
    COMPOUND_SURNAMES,
    PARTICIPANTS,
    PARTY_FORM_NOT_AFTER,
    PARTY_FORM_NOT_BEFORE,
    SPEAKER_TITLES,
    SPOKE_WORDS,
    SURNAMES,
)
from chainatlas.cppcc.intake_model import (
    Evidence,
    Leader,
    LeaderRole,
    Participant,
    ParticipantKind,
)
from chainatlas.cppcc.intake_text import Document, longest_first

_LEVEL = r"(?:自治区|自治州|自治县|[省市县区州旗盟镇乡])"
_BODY = r"(?:人大常委会|人大|政府|政协|纪委监委|纪委|监委|党工委|党委|委)"
_DEPT = r"(?:[\u4e00-\u9fff]{0,8}?(?:办公室|委员会|部|局|厅|办))"
_POST = (
    r"(?:常务)?副?(?:党组书记|书记|主任|主席|秘书长|部长|局长|厅长|常委|"
    r"市长|省长|县长|区长|州长|旗长|盟长|镇长|乡长)"
)
# Posts that name their office alone: 副市长, 秘书长.
_HEAD = r"(?:常务)?副?(?:市长|省长|县长|区长|州长|旗长|盟长|秘书长|自治区主席)"
_SEGMENT = rf"(?:{_LEVEL}{_BODY}?{_DEPT}?{_POST}|{_HEAD})"
# after 、 a post continues the titles of the same office: 市政协党组书记、主席;
# 市委常委、统战部部长
_TITLES = rf"{_SEGMENT}(?:、(?:{_SEGMENT}|{_DEPT}?{_POST}))*"
_LEADERS_WORD = r"(?:自治区|[省市县区州])(?:有关)?领导(?:同志)?"
_STOP = (
    r"(?:[、,。;:!?\s()“”\"]|$|等|主持|出席|参加|列席|讲话|致辞|指出|强调|表示|要求|说|在|作|"
    r"介绍|发言|建议|和|及|与|一行|同志|陪同|调研|带队|率队|看望|会见|到|赴|对|就|代表|提出|通报|"
    r"汇报|听取|宣读|分别|先后|也|还|并)"
)
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + "".join(sorted(SURNAMES)) + "])"
_NAME = rf"{_SURNAME}[\u4e00-\u9fff]{{1,2}}?(?={_STOP})"
_TITLED = re.compile(rf"(?P<title>{_TITLES}|{_LEADERS_WORD})(?P<name>{_NAME})")
_MORE_NAME = re.compile(rf"、(?P<name>{_NAME})")
_SEGMENT_START = re.compile(_SEGMENT)
_PREDICATE_END = re.compile(r"[,。;:!?\n]")
_ROLE_WORDS: tuple[tuple[str, LeaderRole], ...] = (
    ("主持", "chair"),
    ("讲话", "speech"),
    ("致辞", "speech"),
    ("作总结", "speech"),
    ("出席", "present"),
    ("参加", "present"),
    ("列席", "present"),
)
_ROLE_ORDER: tuple[LeaderRole, ...] = ("chair", "speech", "present")


@dataclass
class _Found:
    name: str
    title: str
    start: int
    end: int
    roles: set[LeaderRole] = field(default_factory=set)


def find_leaders(doc: Document) -> list[Leader]:
    """Leaders named with a title, in order of first appearance, with their roles."""
    text = doc.text
    found: dict[str, _Found] = {}
    for match in _TITLED.finditer(text):
        title = match.group("title")
        names = [(match.group("name"), match.start("name"), match.end("name"))]
        cursor = match.end()
        while more := _MORE_NAME.match(text, cursor):
            # 王图强、市政协主席汪建中: a new title starts, the list of this title ends.
            if _SEGMENT_START.match(text, cursor + 1):
                break
            names.append((more.group("name"), more.start("name"), more.end("name")))
            cursor = more.end()
        for name, _, end in names:
            if name not in found:
                found[name] = _Found(name, title, match.start(), end)
    if not found:
        return []
    for name, item in found.items():
        for occurrence in re.finditer(re.escape(name), text):
            stop = _PREDICATE_END.search(text, occurrence.end())
            predicate = text[occurrence.end() : stop.start() if stop else len(text)]
            item.roles |= {role for word, role in _ROLE_WORDS if word in predicate}
        item.roles.add("present")
    return [
        Leader(
            name=item.name,
            title=item.title,
            roles=[role for role in _ROLE_ORDER if role in item.roles],
            evidence=doc.evidence(item.start, item.end),
        )
        for item in sorted(found.values(), key=lambda f: f.start)
    ]


# --- parties and sectors ------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    id: str
    name: str
    kind: ParticipantKind


_GROUPS = Lexicon(
    (form, _Group(gid, name, kind)) for gid, name, kind, forms in PARTICIPANTS for form in forms
)
_SPEAKER = re.compile(rf"[^,。;、:\n]{{0,14}}?(?:{longest_first(SPEAKER_TITLES)})(?P<name>{_NAME})")


def _is_party_form(text: str, start: int, end: int, form: str) -> bool:
    """False for 民革 in 人民革命, 民建 in 居民建房 and the like."""
    if form not in PARTY_FORM_NOT_BEFORE:
        return True
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return before not in PARTY_FORM_NOT_AFTER and after not in PARTY_FORM_NOT_BEFORE[form]


@dataclass
class _Mentions:
    group: _Group
    evidence: Evidence
    matched: list[str] = field(default_factory=list)
    count: int = 0
    spoke: bool = False
    speakers: list[str] = field(default_factory=list)


def group_spans(text: str) -> list[tuple[int, int]]:
    """Where parties and sectors are named (医药卫生界 is a sector, not the 医药 chain)."""
    return [(start, end) for start, end, _, _ in _GROUPS.scan(text)]


def find_participants(doc: Document) -> list[Participant]:
    """Parties, 工商联, non-party people and sectors, in order of first mention."""
    text = doc.text
    mentions: dict[str, _Mentions] = {}
    for start, end, form, payloads in _GROUPS.scan(text):
        group = payloads[0]
        if not _is_party_form(text, start, end, form):
            continue
        entry = mentions.setdefault(group.id, _Mentions(group, doc.evidence(start, end)))
        sentence_end = doc.sentence_span(start)[1]
        entry.count += 1
        entry.spoke = entry.spoke or any(word in text[end:sentence_end] for word in SPOKE_WORDS)
        if form not in entry.matched:
            entry.matched.append(form)
        speaker = _SPEAKER.match(text, end, sentence_end)
        if speaker and speaker.group("name") not in entry.speakers:
            entry.speakers.append(speaker.group("name"))
    return [
        Participant(
            id=m.group.id,
            name=m.group.name,
            kind=m.group.kind,
            matched=m.matched,
            count=m.count,
            spoke=m.spoke,
            speakers=m.speakers,
            evidence=m.evidence,
        )
        for m in mentions.values()
    ]
