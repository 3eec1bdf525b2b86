"""The words of the CPPCC workflow (DESIGN §3): consultation kinds, attendance, the three
kinds of submission (意见建议 / 提案 / 社情民意), their handling and result states, and the
kinds of member duty. Each has its Chinese and English name for pages and reports.

Pure: no database, no settings (the models and the pure statistics both read it).
"""

from __future__ import annotations

from enum import StrEnum


class ConsultationKind(StrEnum):
    topical = "topical"  # 专题协商
    counterpart = "counterpart"  # 对口协商
    sector = "sector"  # 界别协商
    bimonthly = "bimonthly"  # 双月协商座谈会
    other = "other"  # 其他协商（如政党协商座谈会、提案办理协商）


CONSULTATION_KIND_NAMES: dict[str, tuple[str, str]] = {
    ConsultationKind.topical: ("专题协商", "topical consultation"),
    ConsultationKind.counterpart: ("对口协商", "counterpart consultation"),
    ConsultationKind.sector: ("界别协商", "sector consultation"),
    ConsultationKind.bimonthly: ("双月协商", "bimonthly consultation"),
    ConsultationKind.other: ("其他协商", "other consultation"),
}
# the kinds a yearly plan schedules (DESIGN §3); `other` meetings are held, not planned
PLANNED_KINDS = (
    ConsultationKind.topical,
    ConsultationKind.counterpart,
    ConsultationKind.sector,
    ConsultationKind.bimonthly,
)


class Attendance(StrEnum):
    present = "present"  # 出席
    absent = "absent"  # 缺席
    excused = "excused"  # 请假


ATTENDANCE_NAMES: dict[str, tuple[str, str]] = {
    Attendance.present: ("出席", "present"),
    Attendance.absent: ("缺席", "absent"),
    Attendance.excused: ("请假", "excused"),
}


class SubmissionKind(StrEnum):
    suggestion = "suggestion"  # 意见建议（协商会上提出）
    proposal = "proposal"  # 提案
    opinion_report = "opinion_report"  # 社情民意信息


SUBMISSION_KIND_NAMES: dict[str, tuple[str, str]] = {
    SubmissionKind.suggestion: ("意见建议", "suggestion"),
    SubmissionKind.proposal: ("提案", "proposal"),
    SubmissionKind.opinion_report: ("社情民意信息", "public-opinion report"),
}


class SubmissionState(StrEnum):
    """Where the handling stands (交办 → 答复); `merged` and `split` close a submission
    whose handling continues in another one."""

    registered = "registered"  # 已登记
    assigned = "assigned"  # 已交办
    answered = "answered"  # 已答复（全部承办单位）
    merged = "merged"  # 已并案
    split_up = "split"  # 已拆分 (`split` is a str method)


SUBMISSION_STATE_NAMES: dict[str, tuple[str, str]] = {
    SubmissionState.registered: ("已登记", "registered"),
    SubmissionState.assigned: ("已交办", "assigned"),
    SubmissionState.answered: ("已答复", "answered"),
    SubmissionState.merged: ("已并案", "merged"),
    SubmissionState.split_up: ("已拆分", "split"),
}
# a submission in one of these states is closed: its handling continues elsewhere
CLOSED_SUBMISSION_STATES = frozenset({SubmissionState.merged.value, SubmissionState.split_up.value})


class ResultStatus(StrEnum):
    """The result of a submission, as Decidim's accountability module tracks it."""

    planned = "planned"  # 计划落实
    in_progress = "in_progress"  # 正在落实
    done = "done"  # 已落实
    not_adopted = "not_adopted"  # 未采纳（留作参考）


RESULT_STATUS_NAMES: dict[str, tuple[str, str]] = {
    ResultStatus.planned: ("计划落实", "planned"),
    ResultStatus.in_progress: ("正在落实", "in progress"),
    ResultStatus.done: ("已落实", "done"),
    ResultStatus.not_adopted: ("未采纳", "not adopted"),
}


class HandlingState(StrEnum):
    assigned = "assigned"  # 待答复
    answered = "answered"  # 已答复


HANDLING_STATE_NAMES: dict[str, tuple[str, str]] = {
    HandlingState.assigned: ("待答复", "awaiting answer"),
    HandlingState.answered: ("已答复", "answered"),
}


class DutyKind(StrEnum):
    visit = "visit"  # 走访企业
    investment_event = "investment_event"  # 招商活动
    research = "research"  # 调研视察
    speech = "speech"  # 协商会议发言
    proposal = "proposal"  # 提交提案
    matchmaking = "matchmaking"  # 银企对接
    village_pairing = "village_pairing"  # 百企扶百村


DUTY_KIND_NAMES: dict[str, tuple[str, str]] = {
    DutyKind.visit: ("走访企业", "enterprise visit"),
    DutyKind.investment_event: ("招商活动", "investment event"),
    DutyKind.research: ("调研视察", "research"),
    DutyKind.speech: ("协商发言", "speech at a consultation"),
    DutyKind.proposal: ("提交提案", "proposal"),
    DutyKind.matchmaking: ("银企对接", "bank–enterprise matchmaking"),
    DutyKind.village_pairing: ("百企扶百村", "village pairing"),
}


def name_of(names: dict[str, tuple[str, str]], key: str, lang: str = "zh") -> str:
    zh, en = names.get(key, (key, key))
    return en if lang == "en" else zh
