"""The report "上一次意见建议办理情况" read out at a consultation meeting (as in the Wuzhou
sample): the suggestions raised at the previous meeting of the same kind (on the same
chains, in the same region), with who handled each, their answers, and the result so far.

A suggestion merged into another is reported with the handling of the one it went into; a
split one is reported through its parts. `previous_handling_report` returns the rows;
`render_text` and `render_html` print them (zh-CN first, English available).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.cppcc.consultations import get_consultation, previous_consultation
from chainatlas.cppcc.groups import group_name
from chainatlas.cppcc.models import Consultation, Submission
from chainatlas.cppcc.permissions import may_any
from chainatlas.cppcc.suggestions import final_submission, kind_name, submission_targets
from chainatlas.cppcc.vocabulary import (
    CONSULTATION_KIND_NAMES,
    HANDLING_STATE_NAMES,
    RESULT_STATUS_NAMES,
    HandlingState,
    ResultStatus,
    SubmissionState,
    name_of,
)
from chainatlas.workflow.access import Action, Actor


@dataclass(frozen=True)
class AnswerRow:
    unit: str
    lead: bool
    state: str
    deadline: date | None
    answered_on: date | None
    answered_by: str
    answer: str


@dataclass(frozen=True)
class MilestoneRow:
    reached_on: date
    title: str
    progress: float | None


@dataclass(frozen=True)
class HandlingRow:
    submission_id: int
    number: str
    kind: str
    title: str
    group_id: str | None
    member_name: str
    handled_in: int  # the submission whose handling is reported (itself, or merged into)
    merged_into: int | None
    split_from: int | None
    status: str
    progress: float
    result: str
    answers: list[AnswerRow] = field(default_factory=list)
    milestones: list[MilestoneRow] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.answers) and all(a.state == HandlingState.answered for a in self.answers)

    def raised_by(self, lang: str = "zh") -> str:
        parts = [group_name(self.group_id, lang), self.member_name]
        return " / ".join(p for p in parts if p)


@dataclass(frozen=True)
class HandlingReport:
    meeting: Consultation
    previous: Consultation | None
    rows: list[HandlingRow]

    def counts(self) -> dict[str, int]:
        """Rows per result status, and `answered` / `total`."""
        counts = dict.fromkeys(RESULT_STATUS_NAMES, 0)
        for row in self.rows:
            counts[row.status] += 1
        counts["answered"] = sum(1 for r in self.rows if r.answered)
        counts["total"] = len(self.rows)
        return counts


def _row(session: Session, submission: Submission) -> HandlingRow:
    handled = final_submission(session, submission)
    return HandlingRow(
        submission_id=submission.id,
        number=submission.number,
        kind=submission.kind,
        title=submission.title,
        group_id=submission.group_id,
        member_name=submission.member.name if submission.member else "",
        handled_in=handled.id,
        merged_into=submission.merged_into_id,
        split_from=submission.split_from_id,
        status=handled.status,
        progress=handled.progress,
        result=handled.result,
        answers=[
            AnswerRow(
                unit=h.unit.name,
                lead=h.lead,
                state=h.state,
                deadline=h.deadline,
                answered_on=h.answered_on,
                answered_by=h.answered_by,
                answer=h.answer,
            )
            for h in handled.handlings
        ],
        milestones=[MilestoneRow(m.reached_on, m.title, m.progress) for m in handled.milestones],
    )


def meeting_rows(session: Session, actor: Actor, meeting: Consultation) -> list[HandlingRow]:
    """The submissions raised at `meeting` that the actor may see, in the order raised; a
    split one through its parts, in its place."""
    query = select(Submission).where(Submission.consultation_id == meeting.id)
    found = [
        s
        for s in session.scalars(query)
        if s.state != SubmissionState.split_up
        and may_any(actor, Action.view, submission_targets(s))
    ]
    found.sort(key=lambda s: (s.raised_on, s.split_from_id or s.id, s.id))
    return [_row(session, s) for s in found]


def previous_handling_report(
    session: Session, actor: Actor, consultation_id: int
) -> HandlingReport:
    meeting = get_consultation(session, consultation_id, actor)
    previous = previous_consultation(session, meeting)
    rows = [] if previous is None else meeting_rows(session, actor, previous)
    return HandlingReport(meeting, previous, rows)


# --- rendering ------------------------------------------------------------------------------

_LABELS: dict[str, tuple[str, str]] = {
    "heading": ("上一次意见建议办理情况", "Handling of the suggestions of the previous meeting"),
    "none": ("此前没有同类协商会议。", "There was no earlier meeting of this kind."),
    "empty": ("上次会议没有登记意见建议。", "No suggestions were registered at that meeting."),
    "previous": ("上次会议", "Previous meeting"),
    "units": ("承办单位", "Handling units"),
    "answer": ("答复", "Answer"),
    "result": ("落实情况", "Result"),
    "milestone": ("最新进展", "Latest step"),
    "lead": ("主办", "lead"),
    "co": ("协办", "co-handling"),
    "deadline": ("期限", "deadline"),
    "by": ("答复人", "answered by"),
    "progress": ("进度", "progress"),
    "no": ("序号", "No."),
    "raised_by": ("提出者", "Raised by"),
    "suggestion": ("意见建议", "Suggestion"),
    "unassigned": ("尚未交办", "not yet assigned"),
}


def _t(key: str, lang: str) -> str:
    zh, en = _LABELS[key]
    return en if lang == "en" else zh


def _meeting_line(meeting: Consultation, lang: str) -> str:
    kind = name_of(CONSULTATION_KIND_NAMES, meeting.kind, lang)
    name = f"（{meeting.title}）" if meeting.title and lang != "en" else ""
    if lang == "en":
        name = f" ({meeting.title})" if meeting.title else ""
        return f"{meeting.held_on.isoformat()} {kind}: “{meeting.topic}”{name}"
    return f"{meeting.held_on.isoformat()} {kind}「{meeting.topic}」{name}"


def summary_line(report: HandlingReport, lang: str = "zh") -> str:
    c = report.counts()
    status = {s: name_of(RESULT_STATUS_NAMES, s, lang) for s in RESULT_STATUS_NAMES}
    if lang == "en":
        parts = ", ".join(f"{c[s]} {status[s]}" for s in RESULT_STATUS_NAMES)
        return f"{c['total']} suggestions, {c['answered']} answered; {parts}."
    parts = "，".join(f"{status[s]} {c[s]} 条" for s in RESULT_STATUS_NAMES)
    return f"共 {c['total']} 条，已答复 {c['answered']} 条；{parts}。"


def _unit_text(a: AnswerRow, lang: str) -> str:
    role = _t("lead" if a.lead else "co", lang)
    state = name_of(HANDLING_STATE_NAMES, a.state, lang)
    extra = []
    if a.state == HandlingState.answered and a.answered_on:
        extra.append(a.answered_on.isoformat())
        if a.answered_by:
            extra.append(f"{_t('by', lang)} {a.answered_by}")
    elif a.deadline:
        extra.append(f"{_t('deadline', lang)} {a.deadline.isoformat()}")
    sep = ", " if lang == "en" else "，"
    inner = sep.join([role, state, *extra])
    return f"{a.unit} ({inner})" if lang == "en" else f"{a.unit}（{inner}）"


def _note(row: HandlingRow, lang: str) -> str:
    if row.merged_into is not None:
        return f"merged into #{row.merged_into}" if lang == "en" else f"已并入 #{row.merged_into}"
    if row.split_from is not None:
        return f"split from #{row.split_from}" if lang == "en" else f"拆分自 #{row.split_from}"
    return ""


def _result_text(row: HandlingRow, lang: str) -> str:
    status = name_of(RESULT_STATUS_NAMES, row.status, lang)
    text = (
        f"{status}, {_t('progress', lang)} {row.progress:g}%"
        if lang == "en"
        else (f"{status}，{_t('progress', lang)} {row.progress:g}%")
    )
    if row.result:
        text += f"; {row.result}" if lang == "en" else f"；{row.result}"
    return text


def render_text(report: HandlingReport, lang: str = "zh") -> str:
    colon = ": " if lang == "en" else "："
    lines = [_t("heading", lang)]
    if report.previous is None:
        return "\n".join([*lines, _t("none", lang)]) + "\n"
    lines.append(f"{_t('previous', lang)}{colon}{_meeting_line(report.previous, lang)}")
    if not report.rows:
        return "\n".join([*lines, _t("empty", lang)]) + "\n"
    lines.append(summary_line(report, lang))
    for index, row in enumerate(report.rows, start=1):
        raised = row.raised_by(lang)
        note = _note(row, lang)
        tag = f"{kind_name(row.kind, lang)} {row.number or '#' + str(row.submission_id)}"
        lines.append(
            f"{index}. [{raised}] {row.title} ({tag})"
            if lang == "en"
            else f"{index}. 【{raised}】{row.title}（{tag}）"
        )
        if note:
            lines.append(f"   {note}")
        units = ("; " if lang == "en" else "；").join(_unit_text(a, lang) for a in row.answers)
        lines.append(f"   {_t('units', lang)}{colon}{units or _t('unassigned', lang)}")
        for a in row.answers:
            if a.state == HandlingState.answered:
                lines.append(
                    f"   {_t('answer', lang)}（{a.unit}）{colon}{a.answer}"
                    if lang != "en"
                    else f"   {_t('answer', lang)} ({a.unit}){colon}{a.answer}"
                )
        lines.append(f"   {_t('result', lang)}{colon}{_result_text(row, lang)}")
        if row.milestones:
            last = row.milestones[-1]
            lines.append(
                f"   {_t('milestone', lang)}{colon}{last.reached_on.isoformat()} {last.title}"
            )
    return "\n".join(lines) + "\n"


def render_html(report: HandlingReport, lang: str = "zh") -> str:
    """An HTML fragment (a <section>) for a page or a printed report; all text escaped."""
    colon = ": " if lang == "en" else "："
    out = [f'<section class="cppcc-handling-report"><h2>{escape(_t("heading", lang))}</h2>']
    if report.previous is None:
        out.append(f'<p class="muted">{escape(_t("none", lang))}</p></section>')
        return "".join(out)
    out.append(
        f"<p>{escape(_t('previous', lang))}{colon}{escape(_meeting_line(report.previous, lang))}</p>"
    )
    if not report.rows:
        out.append(f'<p class="muted">{escape(_t("empty", lang))}</p></section>')
        return "".join(out)
    out.append(f"<p>{escape(summary_line(report, lang))}</p>")
    heads = ["no", "raised_by", "suggestion", "units", "answer", "result", "milestone"]
    out.append('<table class="data"><thead><tr>')
    out.extend(f"<th>{escape(_t(h, lang))}</th>" for h in heads)
    out.append("</tr></thead><tbody>")
    for index, row in enumerate(report.rows, start=1):
        note = _note(row, lang)
        title = escape(row.title) + (
            f'<br><span class="muted small">{escape(note)}</span>' if note else ""
        )
        units = "<br>".join(escape(_unit_text(a, lang)) for a in row.answers) or escape(
            _t("unassigned", lang)
        )
        answers = "<br>".join(
            f"{escape(a.unit)}{colon}{escape(a.answer)}"
            for a in row.answers
            if a.state == HandlingState.answered
        )
        status_class = "status-strong" if row.status == ResultStatus.done else "status-present"
        result = (
            f'<span class="badge {status_class}">'
            f"{escape(name_of(RESULT_STATUS_NAMES, row.status, lang))}</span> "
            f'<span class="progress" title="{row.progress:g}%"><span style="width:{row.progress:g}%"></span></span> '
            f"{row.progress:g}%" + (f"<br>{escape(row.result)}" if row.result else "")
        )
        last = row.milestones[-1] if row.milestones else None
        step = f"{last.reached_on.isoformat()} {escape(last.title)}" if last else ""
        cells = [str(index), escape(row.raised_by(lang)), title, units, answers, result, step]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table></section>")
    return "".join(out)
