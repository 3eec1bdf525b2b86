"""What the CPPCC pages (政协: consultation plans and meetings, suggestions and their
handling, members, duty records, yearly statistics) share: their sub-tabs and the page
context, built on the chain-chief pages' helpers (the same `Actor`, access table and
form parsing)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import allows
from chainatlas.web.routes._workflow import Tab, page_context
from chainatlas.workflow.access import Actor

CP_TABS = (
    Tab("/cppcc/plans", "cp_tab_plans"),
    Tab("/cppcc/meetings", "cp_tab_meetings"),
    Tab("/cppcc/submissions", "cp_tab_submissions"),
    Tab("/cppcc/duties", "cp_tab_duties"),
    Tab("/cppcc/statistics", "cp_tab_statistics"),
    Tab("/cppcc/members", "cp_tab_members"),
)


def cppcc_context(request: Request, user: User, actor: Actor) -> dict[str, Any]:
    """The chain-chief page context (names, local time, today) with the CPPCC sub-tabs."""
    context = page_context(request, user, actor)
    context["cp_tabs"] = [tab for tab in CP_TABS if allows(user.role, tab.permission)]
    return context
