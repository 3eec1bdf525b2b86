"""What the 意见建议 pages (cppcc_submissions.py) read besides the services: which answers
are overdue (red), the history rows as the timeline shows them (with the merge and split
links), the text filter, and the XLSX sheet of a filtered list."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter

from chainatlas.atlas.model import Chain
from chainatlas.cppcc.groups import group_name
from chainatlas.cppcc.models import Handling, Submission, SubmissionChange
from chainatlas.cppcc.vocabulary import (
    CLOSED_SUBMISSION_STATES,
    RESULT_STATUS_NAMES,
    SUBMISSION_KIND_NAMES,
    SUBMISSION_STATE_NAMES,
    HandlingState,
)

# the history's detail keys that link to another submission
LINK_KEYS = ("into", "merged", "parts", "split_from")


def handling_overdue_days(handling: Handling, today: date) -> int:
    """Days past the deadline of a unit that has not answered an open submission (0: not
    overdue)."""
    if (
        handling.state != HandlingState.assigned
        or handling.deadline is None
        or handling.submission.state in CLOSED_SUBMISSION_STATES
    ):
        return 0
    return max(0, (today - handling.deadline).days)


def overdue_days(submission: Submission, today: date) -> int:
    """The longest overdue answer of the submission, in days (0: none overdue)."""
    return max((handling_overdue_days(h, today) for h in submission.handlings), default=0)


def next_deadline(submission: Submission) -> date | None:
    """The earliest deadline of a unit still to answer."""
    open_deadlines = [
        h.deadline
        for h in submission.handlings
        if h.state == HandlingState.assigned and h.deadline is not None
    ]
    return min(open_deadlines, default=None)


def matches(submission: Submission, query: str) -> bool:
    """The text filter: the words of `query` all occur in the title, content, number, `#id`
    or the proposer's name."""
    haystack = " ".join(
        (
            submission.title,
            submission.content,
            submission.number,
            f"#{submission.id}",
            submission.member.name if submission.member is not None else "",
        )
    ).casefold()
    return all(word in haystack for word in query.casefold().split())


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    username: str
    action: str
    from_state: str | None
    to_state: str
    note: str
    detail: dict[str, Any]

    def links(self, key: str) -> list[int]:
        """The submission ids a merge or split entry points to."""
        value = self.detail.get(key)
        values = value if isinstance(value, list) else [value]
        return [int(v) for v in values if isinstance(v, int)]


def history_rows(history: Sequence[SubmissionChange]) -> list[HistoryRow]:
    rows = []
    for change in history:
        try:
            detail = json.loads(change.detail or "{}")
        except ValueError:
            detail = {}
        rows.append(
            HistoryRow(
                at=change.at,
                username=change.username,
                action=change.action,
                from_state=change.from_state,
                to_state=change.to_state,
                note=change.note,
                detail=detail if isinstance(detail, dict) else {},
            )
        )
    return rows


# --- the XLSX sheet ---------------------------------------------------------------------
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "编号", 7),
    ("number", "文号", 12),
    ("kind", "类型", 12),
    ("title", "标题", 36),
    ("raised_on", "提出日期", 12),
    ("consultation", "协商会议", 26),
    ("group", "提出党派/界别", 12),
    ("member", "提出委员", 10),
    ("signers", "联名委员", 16),
    ("chain", "产业链", 14),
    ("units", "承办单位", 26),
    ("deadline", "办理期限", 12),
    ("overdue", "逾期天数", 9),
    ("state", "办理状态", 10),
    ("answers", "答复情况", 40),
    ("status", "落实状态", 10),
    ("progress", "落实进度(%)", 10),
    ("result", "落实情况", 36),
)


def _row(submission: Submission, chains: Mapping[str, Chain], today: date) -> dict[str, Any]:
    chain = chains.get(submission.chain_id or "")
    meeting = submission.consultation
    return {
        "id": submission.id,
        "number": submission.number,
        "kind": SUBMISSION_KIND_NAMES[submission.kind][0],
        "title": submission.title,
        "raised_on": submission.raised_on,
        "consultation": f"{meeting.held_on} {meeting.topic}" if meeting is not None else "",
        "group": group_name(submission.group_id),
        "member": submission.member.name if submission.member is not None else "",
        "signers": "、".join(s.member.name for s in submission.signers),
        "chain": chain.name_zh if chain is not None else (submission.chain_id or ""),
        "units": "、".join(
            f"{h.unit.name}（{'主办' if h.lead else '协办'}）" for h in submission.handlings
        ),
        "deadline": next_deadline(submission),
        "overdue": overdue_days(submission, today) or None,
        "state": SUBMISSION_STATE_NAMES[submission.state][0],
        "answers": "\n".join(
            f"{h.unit.name}（{h.answered_on}）：{h.answer}"
            for h in submission.handlings
            if h.state == HandlingState.answered
        ),
        "status": RESULT_STATUS_NAMES[submission.status][0],
        "progress": submission.progress,
        "result": submission.result,
    }


def submissions_xlsx(
    submissions: Sequence[Submission], chains: Mapping[str, Chain], today: date
) -> bytes:
    """One row per submission under a frozen header row with filters (Chinese headers, as
    the CPPCC office's 提案办理台账)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("意见建议办理台账")
    head = book.add_format(
        {"bold": True, "bg_color": "#e5edf7", "border": 1, "text_wrap": True, "valign": "top"}
    )
    day = book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    red = book.add_format({"font_color": "#d62828", "bold": True, "valign": "top"})
    for col, (_key, header, width) in enumerate(COLUMNS):
        sheet.write_string(0, col, header, head)
        sheet.set_column(col, col, width)
    for r, submission in enumerate(submissions, start=1):
        row = _row(submission, chains, today)
        for col, (key, _header, _width) in enumerate(COLUMNS):
            value = row[key]
            if value is None or value == "":
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, col, datetime.combine(value, datetime.min.time()), day)
            elif isinstance(value, int | float):
                sheet.write_number(r, col, value, red if key == "overdue" else None)
            else:
                sheet.write_string(r, col, str(value), wrap)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(1, len(submissions)), len(COLUMNS) - 1)
    book.close()
    return out.getvalue()
