"""The intake draft: a meeting record read from a report, every value with its evidence.

JSON contract `chainatlas.intake/1` (docs/intake.md, docs/schemas/intake-1.schema.json).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

SCHEMA_ID = "chainatlas.intake/1"

MeetingKindId = Literal["review_meeting", "consultation", "other"]
ConsultationKind = Literal["topical", "counterpart", "sector", "bimonthly", "other"]
YearSource = Literal["written", "published", "sentence", "text"]
RegionLevel = Literal["province", "city", "county"]
TopicSource = Literal["theme", "meeting_name", "headline"]
LeaderRole = Literal["chair", "speech", "present"]
ParticipantKind = Literal["party", "federation", "non_party", "sector"]
TermLevel = Literal["chain", "node", "keyword"]
ActionId = Literal[
    "build",
    "fill",
    "extend",
    "strengthen",
    "investment",
    "partner_referral",
    "relocation",
    "review",
    "consultation",
]


class Evidence(BaseModel):
    """Where a value was read: the sentence around it and the offsets of the words matched."""

    text: str = Field(description="the sentence the value was read from (clipped when long)")
    start: int = Field(description="offset of the matched words in the draft's `text`")
    end: int = Field(description="end offset (exclusive) of the matched words")


class MeetingDate(BaseModel):
    value: dt.date | None = Field(description="ISO date; null when the year is unknown")
    year: int | None
    month: int
    day: int
    written: str = Field(description="the date as written, e.g. 7月15日")
    year_source: YearSource | None = Field(
        description="written: in the date itself; published: the article's date; "
        "sentence: a year in the same sentence; text: the nearest year before it in the text"
    )
    evidence: Evidence


class RegionMention(BaseModel):
    region_code: str = Field(description="6-digit GB/T 2260 code")
    name: str
    full_name: str
    level: RegionLevel
    count: int = Field(description="mentions, including 我市/本市-style self references")
    matched: list[str] = Field(description="the words found, e.g. 梧州, 我市")
    evidence: Evidence


class MeetingKind(BaseModel):
    kind: MeetingKindId
    consultation_kind: ConsultationKind | None = Field(
        description="topical 专题 / counterpart 对口 / sector 界别 / bimonthly 双月 / other; "
        "null unless kind is consultation"
    )
    matched: list[str] = Field(description="the cue words that decided it")
    evidence: Evidence | None


class Topic(BaseModel):
    text: str
    source: TopicSource = Field(
        description="theme: a stated theme (围绕“…”主题); meeting_name: the meeting's name; "
        "headline: the report's title"
    )
    evidence: Evidence


class Leader(BaseModel):
    name: str
    title: str = Field(description="as written, e.g. 市委副书记、市长")
    roles: list[LeaderRole] = Field(description="chair 主持, speech 讲话, present 出席/参加")
    evidence: Evidence


class Participant(BaseModel):
    """A democratic party, the federation of industry and commerce, non-party people or a
    CPPCC sector (界别) named in the report."""

    id: str = Field(description="stable identifier, e.g. rcck for 民革, economy for 经济界")
    name: str = Field(description="short Chinese form, e.g. 民革")
    kind: ParticipantKind
    matched: list[str] = Field(description="the forms found, e.g. 民革, 中国民主同盟")
    count: int
    spoke: bool = Field(description="named in a sentence saying it spoke, proposed or reported")
    speakers: list[str] = Field(description="names of people speaking for it, when given")
    evidence: Evidence


class MatchedTerm(BaseModel):
    text: str
    level: TermLevel = Field(
        description="chain: the chain's name or alias; node: a node's name; "
        "keyword: a node's product or keyword"
    )
    node_id: str | None
    count: int


class ChainMention(BaseModel):
    chain_id: str
    name_zh: str
    count: int
    matched: list[MatchedTerm]
    evidence: Evidence


class ActionMention(BaseModel):
    action: ActionId = Field(
        description="build/fill/extend/strengthen (建链/补链/延链/强链), or a tag: investment "
        "招商, partner_referral 以商招商, relocation 承接产业转移, review 调度, consultation 协商"
    )
    chain_action: bool = Field(description="one of the four chain actions (DESIGN §3)")
    matched: list[str]
    count: int
    evidence: Evidence


class Figure(BaseModel):
    value: float = Field(description="the number as written (3.5 in 3.5万吨)")
    unit: str = Field(description="the unit as written, magnitude included (万吨, 亿元, %)")
    text: str = Field(description="number and unit as they stand in the text")
    count: int = Field(description="times the same value and unit occur")
    evidence: Evidence


class Note(BaseModel):
    """Something a person should check before saving."""

    message_zh: str
    message_en: str


class MeetingDraft(BaseModel):
    schema_id: str = Field(default=SCHEMA_ID, alias="schema")
    title: str | None = Field(description="the report's main title, when it has one")
    headline: list[str] = Field(description="title lines above the report's body")
    meeting_name: str | None = Field(description="e.g. 市八大产业链工作调度推进会")
    published: dt.date | None = Field(description="the article's own date, when known")
    date: MeetingDate | None
    region: RegionMention | None = Field(description="the place: most mentioned, most specific")
    other_regions: list[RegionMention]
    kind: MeetingKind
    topic: Topic | None
    leaders: list[Leader]
    participants: list[Participant]
    chains: list[ChainMention] = Field(description="atlas chains named, most mentioned first")
    actions: list[ActionMention]
    figures: list[Figure]
    notes: list[Note]
    text: str = Field(description="the normalised text (simplified Chinese) evidence points into")

    model_config = {"populate_by_name": True}
