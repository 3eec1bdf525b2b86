"""What the CPPCC pages (政协: consultation plans and meetings, suggestions and their
handling, members, duty records, yearly statistics) share: their sub-tabs and the page
context, built on the chain-chief pages' helpers (the same `Actor`, access table and
form parsing)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import allows
from chainatlas.web.routes._workflow import Tab, may_anywhere, page_context
from chainatlas.workflow.access import Action, Actor, Kind

# each tab with the kind of record it shows: a role the access table lets see none of that
# kind does not get the tab (e.g. the scoring rules for chain offices)
CP_TABS = (
    (Tab("/cppcc/plans", "cp_tab_plans"), Kind.consultation_plan),
    (Tab("/cppcc/meetings", "cp_tab_meetings"), Kind.consultation),
    (Tab("/cppcc/submissions", "cp_tab_submissions"), Kind.submission),
    (Tab("/cppcc/duties", "cp_tab_duties"), Kind.duty_record),
    (Tab("/cppcc/statistics", "cp_tab_statistics"), Kind.duty_record),
    (Tab("/cppcc/scoring", "cp_tab_scoring"), Kind.duty_scoring),
    (Tab("/cppcc/members", "cp_tab_members"), Kind.cppcc_member),
)


def cppcc_context(request: Request, user: User, actor: Actor) -> dict[str, Any]:
    """The chain-chief page context (names, local time, today) with the CPPCC sub-tabs."""
    context = page_context(request, user, actor)
    context["cp_tabs"] = [
        tab
        for tab, kind in CP_TABS
        if allows(user.role, tab.permission) and may_anywhere(actor, kind, Action.view)
    ]
    return context
