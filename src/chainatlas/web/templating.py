"""Rendering pages: every template gets the user, the language, `t` for messages, the CSRF
token, the navigation and the region the user is looking at."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Permission, Role, allows
from chainatlas.reference.regions import region_codes, region_full_name
from chainatlas.web.i18n import LANGUAGES, translate
from chainatlas.web.security import csrf_token
from chainatlas.web.state import app_state

templates = Jinja2Templates(directory=str(resources.files("chainatlas.web") / "templates"))


def _region_choices(code: str) -> list[dict[str, Any]]:
    from chainatlas.web.readmodel import region_choices

    return region_choices(code)


# the region picker (_region_picker.html) lists the regions around the current one
templates.env.globals["region_choices"] = _region_choices


@dataclass(frozen=True)
class NavItem:
    path: str
    key: str  # message key
    permission: Permission = Permission.view
    admin_only: bool = False
    # the pages the item stands for: one item per system keeps the bar on one line at 1280 px
    # (the system's own tabs lead to the rest)
    section: tuple[str, ...] = ()

    def is_active(self, path: str) -> bool:
        if self.path == "/":
            return path == "/"
        return any(path.startswith(prefix) for prefix in (self.path, *self.section))


NAV = (
    NavItem("/", "nav_home"),
    NavItem("/atlas", "nav_atlas"),
    NavItem("/enterprises", "nav_enterprises"),
    NavItem("/diagnosis", "nav_diagnosis"),
    NavItem("/targets", "nav_targets"),
    NavItem("/opportunities", "nav_opportunities"),
    NavItem("/briefings", "nav_briefings"),
    NavItem("/projects", "nav_chain_chief", section=("/cases", "/meetings", "/kpis", "/org")),
    NavItem("/cppcc/meetings", "nav_cppcc", section=("/cppcc",)),
    NavItem("/data", "nav_data", Permission.manage_data),
    NavItem("/admin/users", "nav_users", Permission.manage_users),
)


def language(request: Request) -> str:
    lang = request.session.get("lang", "zh")
    return lang if lang in LANGUAGES else "zh"


def current_region(request: Request, user: User | None = None) -> str:
    """The region the user looks at: `?region=` (remembered), else the last one chosen, the
    user's home region, the settings' demo region."""
    asked = request.query_params.get("region", "").strip()
    if asked and asked in region_codes():
        request.session["region"] = asked
        return asked
    remembered = request.session.get("region")
    if remembered and remembered in region_codes():
        return str(remembered)
    if user is not None and user.region_code in region_codes():
        return user.region_code
    return app_state(request).settings.demo_region


def visible_chains(request: Request, user: User) -> list[tuple[str, str]]:
    """(chain id, name in the page's language) of the chains this user may see."""
    lang = language(request)
    atlas = app_state(request).atlas
    return [
        (cid, chain.name_en if lang == "en" and chain.name_en else chain.name_zh)
        for cid, chain in atlas.items()
        if user.sees_chain(cid)
    ]


def render(
    request: Request, template: str, user: User | None, status_code: int = 200, **context: Any
) -> Response:
    lang = language(request)
    region = context.pop("region", None) or (current_region(request, user) if user else "")
    base = {
        "request": request,
        "user": user,
        "lang": lang,
        "t": partial(translate, lang=lang),
        "csrf_token": csrf_token(request),
        "nav": [
            item
            for item in NAV
            if user is not None
            and allows(user.role, item.permission)
            and (not item.admin_only or user.role == Role.admin)
        ],
        "path": request.url.path,
        "region": region,
        "region_name": region_full_name(region) if region else "",
        "synthetic": app_state(request).caches.get("synthetic", False),
    }
    base.update(context)
    return templates.TemplateResponse(request, template, base, status_code=status_code)
