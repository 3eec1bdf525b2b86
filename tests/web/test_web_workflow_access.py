"""链长制 pages (/org, /projects, /cases, /meetings, /kpis): every route × every role with
real records on two chains, the answer each gets derived from the access table
(workflow/access.py `ACCESS`, through `may`) rather than typed out here.

The setting (`workflow_world`, plus a CPPCC member and a spare account):

- chain A (sugarcane): chain office 糖业链长办 (user `office`), member units 自然资源局
  (`unit_a`) and 商务局 (`unit_b`); chain B (new_energy_vehicle): chain office 新能源汽车链长办
  (`nev_office`); `admin`, `analyst`, `member` (cppcc_member) and `viewer` on no unit;
- projects and cases at three places — chain A owned by 自然资源局, chain B owned by its
  office, and chain B owned by 自然资源局 (a member unit's `unit` scope reaching beyond its
  chains) — and a review meeting with its agenda and decisions on each chain.

For each route (the app's routes are enumerated, so a new one fails until it is added to
`ROUTES`), each variant (which record, which chain) and each user: the status is the one
the access table implies (200 / 303 when allowed, 403 when refused; a project sheet's row
the table refuses is a 422 listing the row), after the coarse permission the route declares
(login for every workflow route today). A GET that is allowed shows what the table allows: the lists
and the XLSX export hold exactly the records the user may view, and a page offers a form or
button exactly when the user may use it. A POST carries a valid CSRF token and valid form
data on a fresh record: allowed, it changes something; refused, no table's row count and
none of the record's columns (version, state…) change.

Where a route's coarse permission would refuse what the access table grants, the test fails,
naming the contradiction. (The first run found eleven: /org demanded `analyze`, so member units, CPPCC members and viewers could
not see the organisation the table lets them view, nor a member unit edit its own unit's
contacts; /org now follows the table.)

A page asked for one chain (`?chain=`) needs `view` on that chain (the scoped roles' own
chains, `check_chain`): a member unit owning a project on another chain sees it, but may
not filter the list by that chain. The minutes PDF is printed by a stub here (Chromium is
slow; test_web_workflow_meetings prints it): the access check comes before the printing.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from tests.web.conftest import PASSWORD, REGION, SCOPED_CHAIN
from tests.web.workflow_world import OTHER, World, csrf_on, make_world
from tests.web.workflow_world import USERS as WORLD_USERS

from chainatlas.accounts.models import User
from chainatlas.accounts.roles import Permission, Role, allows
from chainatlas.accounts.service import add_user, find_user
from chainatlas.db.models import metadata
from chainatlas.settings import Settings
from chainatlas.web.i18n import translate
from chainatlas.web.routes import workflow_meetings
from chainatlas.web.routes._workflow import PAGE_SIZE
from chainatlas.web.routes.workflow_kpis import WEIGHT_COLUMNS, WEIGHT_PREFIX
from chainatlas.workflow import cases as case_service
from chainatlas.workflow import meetings as meeting_service
from chainatlas.workflow import organisation as org
from chainatlas.workflow import projects as project_service
from chainatlas.workflow.access import Action, Actor, Kind, Target, may
from chainatlas.workflow.edits import local_today
from chainatlas.workflow.models import Case, ChainChief, Project, ReviewMeeting, Unit

SETUP = Actor.system("setup")
A, B = SCOPED_CHAIN, OTHER
TODAY = local_today()
PREFIXES = ("/org", "/projects", "/cases", "/meetings", "/kpis")
# the users, one of each role, and both chain offices and both member units of chain A
USERS = ("admin", "analyst", "office", "nev_office", "unit_a", "unit_b", "member", "viewer")
EXTRA_USERS = {"member": Role.cppcc_member, "spare": Role.viewer}  # `spare` has no client
UNIT_NAMES = {
    "office": "糖业链长办",
    "unit_a": "自然资源局",
    "unit_b": "商务局",
    "nev_office": "新能源汽车链长办",
}
UNIT_CHAIN = {"office": A, "unit_a": A, "unit_b": A, "nev_office": B}
# where a project or case is: its chain and its owning unit (responsible / assigned)
PLACES = {"A": (A, "unit_a"), "B": (B, "nev_office"), "B+unit_a": (B, "unit_a")}
CHAINS = {"A": A, "B": B}
NOT_ALLOWED = translate("wf_not_allowed_here", "zh")


# --- the setting ----------------------------------------------------------------------------
@dataclass
class Wf:
    world: World
    clients: dict[str, TestClient]
    tokens: dict[str, str]
    actors: dict[str, Actor]
    user_ids: dict[str, int]
    units: dict[str, int]
    projects: dict[str, int]  # place → a project at stage lead
    cases: dict[str, int]  # place → a case assigned to the place's unit
    meetings: dict[str, int]  # "A" / "B" → a meeting with agenda and decisions
    permissions: dict[tuple[str, str], frozenset[Permission]]
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def session(self) -> Any:
        return self.world.state.db.session()

    def place(self, variant: str) -> tuple[str, int]:
        chain, unit = PLACES[variant]
        return chain, self.units[unit]

    def n(self) -> int:
        return next(self.serial)

    # fresh records, made by the system actor, for one attempt each
    def new_project(self, variant: str) -> int:
        chain, unit = self.place(variant)
        with self.session() as session:
            return project_service.add_project(
                session,
                SETUP,
                name=f"项目{self.n()}",
                investor_name="梧州测试投资有限公司",
                chain_id=chain,
                unit_id=unit,
                chains=self.world.state.atlas,
            ).id

    def new_case(self, variant: str, state: str = "assigned") -> int:
        chain, unit = self.place(variant)
        with self.session() as session:
            case = case_service.add_case(
                session,
                SETUP,
                title=f"诉求{self.n()}",
                source="enterprise",
                category="land",
                chain_id=chain,
                enterprise_name="梧州测试企业有限公司",
                unit_id=unit,
                deadline=TODAY + timedelta(days=30),
            )
            steps = {"in_progress": 1, "resolved": 2}.get(state, 0)
            if steps >= 1:
                case_service.start_case(session, SETUP, case.id, expected_version=None)
            if steps >= 2:
                case_service.resolve_case(
                    session, SETUP, case.id, expected_version=None, resolution="已协调解决"
                )
            return case.id

    def new_meeting(self, variant: str) -> int:
        with self.session() as session:
            return meeting_service.create_meeting(
                session,
                SETUP,
                chain_id=CHAINS[variant],
                held_on=TODAY,
                title=f"调度会{self.n()}",
                stalled_days=1,
            ).id

    def new_unit(self, chain: str | None = None, with_spare: bool = False) -> int:
        """A unit no client belongs to (so no actor changes), on `chain` if given."""
        with self.session() as session:
            unit = org.add_unit(session, SETUP, f"备用单位{self.n()}")
            if chain is not None:
                org.set_chain_unit(session, SETUP, chain, unit.id, "member_unit")
            if with_spare:
                org.add_unit_user(session, SETUP, unit.id, self.user_ids["spare"])
            return unit.id

    def new_chief(self, chain: str) -> int:
        with self.session() as session:
            return org.add_chain_chief(session, SETUP, chain, f"链长{self.n()}", "副市长").id

    def version(self, model: type, row_id: int) -> str:
        with self.session() as session:
            return str(session.get(model, row_id).version)

    def snapshot(self, record: tuple[type, int] | None) -> tuple[Any, ...]:
        """Every table's row count (one query) and, given a record, all its columns."""
        with self.session() as session:
            tables = metadata.sorted_tables
            counts = session.execute(
                select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
            ).one()
            columns: dict[str, Any] | None = {}
            if record is not None:
                model, row_id = record
                row = session.get(model, row_id)
                keys: list[str] = list(inspect(model).columns.keys())
                columns = None if row is None else {k: getattr(row, k) for k in keys}
            return dict(zip((t.name for t in tables), counts, strict=True)), columns


def route_permissions(app: FastAPI) -> dict[tuple[str, str], frozenset[Permission]]:
    """(method, path) → the permissions the route's guards demand, for the chain-chief
    routes (security.require marks its dependency with `.permission`)."""
    found: dict[tuple[str, str], frozenset[Permission]] = {}
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        path = str(context.path)
        if not any(path == p or path.startswith(p + "/") for p in PREFIXES):
            continue
        pending, demanded = [context.dependant], set()
        while pending:
            current = pending.pop()
            if hasattr(current.call, "permission"):
                demanded.add(Permission(current.call.permission))
            pending.extend(current.dependencies)
        for method in context.methods or ():
            found[(method, path)] = frozenset(demanded)
    return found


@pytest.fixture(scope="module")
def wf(web_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wf]:
    world = make_world(tmp_path_factory.mktemp("wfaccess"), web_settings, PASSWORD)
    state = world.state
    with state.db.session() as session:
        for name, role in EXTRA_USERS.items():
            add_user(
                session,
                state.settings.web,
                name,
                PASSWORD,
                role.value,
                region_code=REGION,
                actor="test",
            )
        user_ids = {}
        for name in (*USERS, "spare"):
            user = find_user(session, name)
            assert isinstance(user, User)
            user_ids[name] = user.id
    units = {
        "office": world.units.office,
        "unit_a": world.units.unit_a,
        "unit_b": world.units.unit_b,
        "nev_office": world.units.nev_office,
    }
    # each user as the access rules should see it, from the organisation set up here: its
    # role, its unit, the chains on its account and those its unit serves
    actors = {}
    for name in USERS:
        role, chains = WORLD_USERS.get(name, (EXTRA_USERS.get(name, Role.viewer).value, ()))
        actors[name] = Actor(
            username=name,
            role=Role(role),
            user_id=user_ids[name],
            unit_ids=frozenset({units[name]}) if name in units else frozenset(),
            chain_ids=frozenset(chains) | ({UNIT_CHAIN[name]} if name in units else set()),
        )
    clients = {name: world.client(name) for name in USERS}
    tokens = {name: csrf_on(client.get("/meetings").text) for name, client in clients.items()}
    made = Wf(
        world=world,
        clients=clients,
        tokens=tokens,
        actors=actors,
        user_ids=user_ids,
        units=units,
        projects={},
        cases={},
        meetings={},
        permissions=route_permissions(world.app),
    )
    for place in PLACES:
        made.projects[place] = made.new_project(place)
        made.cases[place] = made.new_case(place)
    for variant, chain in CHAINS.items():
        meeting_id = made.new_meeting(variant)  # its agenda: the chain's open cases
        unit = made.units["unit_a" if chain == A else "nev_office"]
        with made.session() as session:
            meeting_service.add_decision(session, SETUP, meeting_id, "加快推进项目落地")
            meeting_service.add_decision(
                session,
                SETUP,
                meeting_id,
                "协调解决用地指标",
                unit_id=unit,
                deadline=TODAY + timedelta(days=20),
                title="用地指标",
            )
            made.meetings[variant] = meeting_id
        made.new_chief(chain)
    yield made
    for client in clients.values():
        client.close()


# --- what a request needs ------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One thing a request needs; `refused` is the status when it does not hold."""

    what: str
    holds: Callable[[Actor], bool]
    refused: int = 403


def needs(action: Action, target: Target, refused: int = 403) -> Rule:
    where = f"chain={target.chain_id} unit={target.unit_id}"
    return Rule(
        f"ACCESS {target.kind.value}.{action.value} ({where})",
        lambda actor: may(actor, action, target),
        refused,
    )


def may_somewhere(actor: Actor, kind: Kind, action: Action, chains: Iterable[str]) -> bool:
    """Could the actor do `action` on some object of `kind`: on any chain of the atlas,
    owned by one of its units or by none."""
    units: list[int | None] = [None, *actor.unit_ids]
    return any(
        may(actor, action, Target(kind, chain_id=c, unit_id=u, owner_id=actor.user_id))
        for c in chains
        for u in units
    )


def needs_somewhere(wf: Wf, kind: Kind, action: Action) -> Rule:
    chains = list(wf.world.state.atlas)
    return Rule(
        f"ACCESS {kind.value}.{action.value} on some chain",
        lambda actor: may_somewhere(actor, kind, action, chains),
    )


USER_MANAGER = Rule(
    "roles: manage_users (organisation.add_unit_user / remove_unit_user)",
    lambda actor: allows(actor.role, Permission.manage_users),
)


@dataclass
class Attempt:
    url: str
    rules: tuple[Rule, ...]
    form: dict[str, Any] | None = None  # a POST's fields (None: a GET)
    files: dict[str, Any] | None = None
    record: tuple[type, int] | None = None  # the row a refused POST must leave as it was
    ok: int = 0  # the status when allowed (default: 200 for a GET, 303 for a POST)
    check: Callable[[TestClient, Any, Actor], list[str]] | None = None  # on an allowed GET

    def __post_init__(self) -> None:
        if not self.ok:
            self.ok = 200 if self.form is None else 303


@dataclass(frozen=True)
class Route:
    variants: tuple[str, ...]
    attempt: Callable[[Wf, str], Attempt]


ROUTES: dict[tuple[str, str], Route] = {}


def route(method: str, path: str, *variants: str) -> Callable[[Any], Any]:
    def register(build: Callable[[Wf, str], Attempt]) -> Callable[[Wf, str], Attempt]:
        ROUTES[(method, path)] = Route(variants or ("-",), build)
        return build

    return register


def chain_of(variant: str) -> str | None:
    """A list page's `?chain=` variant: "-" (none), "A" or "B"."""
    return CHAINS.get(variant)


def query(variant: str, **extra: str) -> str:
    params = dict(extra)
    if chain_of(variant):
        params["chain"] = chain_of(variant) or ""
    return ("?" + "&".join(f"{k}={v}" for k, v in params.items())) if params else ""


def view_chain(wf: Wf, kind: Kind, variant: str) -> tuple[Rule, ...]:
    """A page asked for a chain (`?chain=`): the actor must be able to view that kind there
    (for the scoped roles: one of their chains); without one, somewhere."""
    chain = chain_of(variant)
    if chain is None:
        return (needs_somewhere(wf, kind, Action.view),)
    return (needs(Action.view, Target(kind, chain_id=chain)),)


# --- checks of what an allowed page shows -------------------------------------------------
def offered(page: str, marker: str, allowed: bool, what: str) -> list[str]:
    if (marker in page) != allowed:
        return [f"{what}: offered={marker in page}, allowed={allowed}"]
    return []


def form_offered(page: str, allowed: bool, what: str) -> list[str]:
    """A form page tells the user it may not submit (and disables the button) exactly when
    it may not."""
    refused_notice = f'<p class="notice">{NOT_ALLOWED}</p>' in page
    if refused_notice == allowed:
        return [f"{what}: the form is {'refused' if refused_notice else 'open'}, allowed={allowed}"]
    return []


def visible_rows(wf: Wf, actor: Actor, model: type, kind: Kind, chain: str | None) -> set[int]:
    with wf.session() as session:
        rows = session.scalars(select(model)).all()
        return {
            r.id
            for r in rows
            if (chain is None or r.chain_id == chain)
            and may(actor, Action.view, Target(kind, r.chain_id, getattr(r, "unit_id", None)))
        }


def listing_check(
    wf: Wf, model: type, kind: Kind, path: str, variant: str, *, paged: bool
) -> Callable[[TestClient, Any, Actor], list[str]]:
    """The list shows exactly the records the actor may view (every page of it)."""
    link = re.compile(rf'href="{path}/(\d+)"')

    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        expected = visible_rows(wf, actor, model, kind, chain_of(variant))
        shown = {int(i) for i in link.findall(response.text)}
        pages = max(1, -(-len(expected) // PAGE_SIZE)) if paged else 1
        for page in range(2, pages + 1):
            more = client.get(f"{path}{query(variant, page=str(page))}")
            shown |= {int(i) for i in link.findall(more.text)}
        if shown != expected:
            return [
                f"listed {sorted(shown - expected)} not viewable, missing {sorted(expected - shown)}"
            ]
        return []

    return check


# --- the routes -----------------------------------------------------------------------------
# 组织 /org
@route("GET", "/org", "-", "A", "B")
def _org_page(wf: Wf, variant: str) -> Attempt:
    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        page, problems = response.text, []
        for chain in (A, B):
            shown = f'id="chain-{chain}"' in page
            viewable = may(actor, Action.view, Target(Kind.chain, chain_id=chain))
            if shown != viewable:
                problems.append(f"chain {chain} shown={shown}, viewable={viewable}")
            if shown:
                editable = may(actor, Action.edit, Target(Kind.chain, chain_id=chain))
                problems += offered(
                    page, f'action="/org/chains/{chain}/chiefs"', editable, f"edit {chain}"
                )
        for name, unit in wf.units.items():
            editable = may(actor, Action.edit, Target(Kind.unit, unit_id=unit))
            problems += offered(page, f'action="/org/units/{unit}"', editable, f"edit {name}")
            problems += offered(
                page,
                f'action="/org/units/{unit}/users"',
                allows(actor.role, Permission.manage_users),
                f"users of {name}",
            )
        creates = may(actor, Action.create, Target(Kind.unit))
        return problems + offered(page, 'action="/org/units"', creates, "add a unit")

    return Attempt(f"/org{query(variant)}", view_chain(wf, Kind.chain, variant), check=check)


@route("POST", "/org/units")
def _org_add_unit(wf: Wf, variant: str) -> Attempt:
    return Attempt(
        "/org/units",
        (needs(Action.create, Target(Kind.unit)),),
        form={"name": f"新单位{wf.n()}", "kind": "member_unit", "contact_person": "赵主任"},
    )


@route("POST", "/org/units/{unit_id}", "office", "unit_a", "nev_office")
def _org_edit_unit(wf: Wf, variant: str) -> Attempt:
    unit_id = wf.units[variant]
    with wf.session() as session:
        unit = session.get(Unit, unit_id)
        form = {
            "name": unit.name,
            "kind": unit.kind,
            "contact_person": unit.contact_person,
            "contact_phone": f"0774-{wf.n():07d}",
            "contact_email": unit.contact_email,
            "note": unit.note,
            "version": str(unit.version),
        }
    return Attempt(
        f"/org/units/{unit_id}",
        (needs(Action.edit, Target(Kind.unit, unit_id=unit_id)),),
        form=form,
        record=(Unit, unit_id),
    )


@route("POST", "/org/units/{unit_id}/users")
def _org_add_unit_user(wf: Wf, variant: str) -> Attempt:
    unit_id = wf.new_unit(A)
    return Attempt(
        f"/org/units/{unit_id}/users",
        (USER_MANAGER,),
        form={"user_id": str(wf.user_ids["spare"])},
    )


@route("POST", "/org/units/{unit_id}/users/{user_id}/remove")
def _org_remove_unit_user(wf: Wf, variant: str) -> Attempt:
    unit_id = wf.new_unit(A, with_spare=True)
    return Attempt(
        f"/org/units/{unit_id}/users/{wf.user_ids['spare']}/remove", (USER_MANAGER,), form={}
    )


@route("POST", "/org/chains/{chain_id}/units", "A", "B")
def _org_set_chain_unit(wf: Wf, variant: str) -> Attempt:
    chain, unit_id = CHAINS[variant], wf.new_unit()
    return Attempt(
        f"/org/chains/{chain}/units",
        (needs(Action.edit, Target(Kind.chain, chain_id=chain)),),
        form={"unit_id": str(unit_id), "role": "member_unit"},
    )


@route("POST", "/org/chains/{chain_id}/units/{unit_id}/remove", "A", "B")
def _org_remove_chain_unit(wf: Wf, variant: str) -> Attempt:
    chain = CHAINS[variant]
    unit_id = wf.new_unit(chain)
    return Attempt(
        f"/org/chains/{chain}/units/{unit_id}/remove",
        (needs(Action.edit, Target(Kind.chain, chain_id=chain)),),
        form={},
    )


@route("POST", "/org/chains/{chain_id}/chiefs", "A", "B")
def _org_add_chief(wf: Wf, variant: str) -> Attempt:
    chain = CHAINS[variant]
    return Attempt(
        f"/org/chains/{chain}/chiefs",
        (needs(Action.edit, Target(Kind.chain, chain_id=chain)),),
        form={"name": f"新链长{wf.n()}", "title": "副市长"},
    )


@route("POST", "/org/chiefs/{chief_id}/remove", "A", "B")
def _org_remove_chief(wf: Wf, variant: str) -> Attempt:
    chain = CHAINS[variant]
    chief_id = wf.new_chief(chain)
    return Attempt(
        f"/org/chiefs/{chief_id}/remove",
        (needs(Action.edit, Target(Kind.chain, chain_id=chain)),),
        form={},
        record=(ChainChief, chief_id),
    )


# 招商项目 /projects
def project_target(wf: Wf, variant: str) -> Target:
    chain, unit = wf.place(variant)
    return Target(Kind.project, chain, unit)


@route("GET", "/projects", "-", "A", "B")
def _projects_page(wf: Wf, variant: str) -> Attempt:
    return Attempt(
        f"/projects{query(variant)}",
        view_chain(wf, Kind.project, variant),
        check=listing_check(wf, Project, Kind.project, "/projects", variant, paged=True),
    )


@route("GET", "/projects/nodes", "A", "B")
def _project_nodes(wf: Wf, variant: str) -> Attempt:
    return Attempt(f"/projects/nodes{query(variant)}", view_chain(wf, Kind.project, variant))


@route("GET", "/projects/new", "-", "A", "B")
def _project_new(wf: Wf, variant: str) -> Attempt:
    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        allowed = may_somewhere(actor, Kind.project, Action.create, wf.world.state.atlas)
        return form_offered(response.text, allowed, "new project")

    return Attempt(
        f"/projects/new{query(variant)}", view_chain(wf, Kind.project, variant), check=check
    )


@route("GET", "/projects/export.xlsx", "-", "A", "B")
def _project_export(wf: Wf, variant: str) -> Attempt:
    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        expected = visible_rows(wf, actor, Project, Kind.project, chain_of(variant))
        sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
        exported = {int(r[0]) for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}
        if exported != expected:
            return [
                f"exported {sorted(exported - expected)}, missing {sorted(expected - exported)}"
            ]
        return []

    return Attempt(
        f"/projects/export.xlsx{query(variant)}", view_chain(wf, Kind.project, variant), check=check
    )


def sheet(*rows: dict[str, Any]) -> bytes:
    """A project sheet in the offices' layout: the header, then one row each."""
    headers = ("编号", "项目名称", "投资方", "产业链", "责任单位", "备注")
    keys = ("id", "name", "investor_name", "chain_id", "unit", "note")
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(headers)
    for row in rows:
        ws.append([row.get(k, "") for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@route("POST", "/projects/import", "new A", "new B", "new B+unit_a", "update A", "update B")
def _project_import(wf: Wf, variant: str) -> Attempt:
    """A sheet of one row; a role that may create no project at all is refused the page
    (403), a row the table refuses is listed as a problem (422) and nothing is written."""
    kind, place = variant.split(" ")
    chain, unit = wf.place(place)
    row: dict[str, Any] = {
        "name": f"导入项目{wf.n()}",
        "investor_name": "导入投资有限公司",
        "chain_id": chain,
        "unit": UNIT_NAMES[PLACES[place][1]],
        "note": f"导入{wf.n()}",
    }
    record = None
    target = Target(Kind.project, chain, unit)
    row_rule = needs(Action.create, target, refused=422)
    if kind == "update":
        project_id = wf.new_project(place)
        with wf.session() as session:
            project = session.get(Project, project_id)
            row |= {"id": project_id, "name": project.name}
        record = (Project, project_id)
        row_rule = needs(Action.edit, target, refused=422)
    return Attempt(
        "/projects/import",
        (needs_somewhere(wf, Kind.project, Action.create), row_rule),
        form={},
        files={"file": ("projects.xlsx", sheet(row), "application/octet-stream")},
        record=record,
        ok=200,
    )


@route("POST", "/projects", "A", "B", "B+unit_a")
def _project_create(wf: Wf, variant: str) -> Attempt:
    chain, unit = wf.place(variant)
    return Attempt(
        "/projects",
        (needs(Action.create, project_target(wf, variant)),),
        form={
            "name": f"新项目{wf.n()}",
            "investor_name": "广西测试投资有限公司",
            "chain_id": chain,
            "unit_id": str(unit),
            "stage": "lead",
        },
    )


@route("GET", "/projects/{project_id}", *PLACES)
def _project_page(wf: Wf, variant: str) -> Attempt:
    project_id, target = wf.projects[variant], project_target(wf, variant)

    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        page = response.text
        return offered(
            page, f'href="/projects/{project_id}/edit"', may(actor, Action.edit, target), "edit"
        ) + offered(page, f"/projects/{project_id}/stage", may(actor, Action.stage, target), "move")

    return Attempt(f"/projects/{project_id}", (needs(Action.view, target),), check=check)


@route("GET", "/projects/{project_id}/edit", *PLACES)
def _project_edit_page(wf: Wf, variant: str) -> Attempt:
    target = project_target(wf, variant)

    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        return form_offered(response.text, may(actor, Action.edit, target), "edit project")

    return Attempt(
        f"/projects/{wf.projects[variant]}/edit", (needs(Action.view, target),), check=check
    )


@route("GET", "/projects/{project_id}/stage", *PLACES)
def _project_stage_page(wf: Wf, variant: str) -> Attempt:
    target = project_target(wf, variant)

    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        return form_offered(response.text, may(actor, Action.stage, target), "move project")

    return Attempt(
        f"/projects/{wf.projects[variant]}/stage?to=negotiating",
        (needs(Action.view, target),),
        check=check,
    )


@route("POST", "/projects/{project_id}", *PLACES)
def _project_edit(wf: Wf, variant: str) -> Attempt:
    project_id = wf.new_project(variant)
    with wf.session() as session:
        project = session.get(Project, project_id)
        form = {
            "name": project.name,
            "investor_name": project.investor_name,
            "chain_id": project.chain_id,
            "unit_id": str(project.unit_id),
            "region_code": project.region_code or "",
            "note": f"已对接{wf.n()}",
            "version": str(project.version),
        }
    return Attempt(
        f"/projects/{project_id}",
        (needs(Action.edit, project_target(wf, variant)),),
        form=form,
        record=(Project, project_id),
    )


@route("POST", "/projects/{project_id}/stage", *PLACES)
def _project_move(wf: Wf, variant: str) -> Attempt:
    project_id = wf.new_project(variant)
    return Attempt(
        f"/projects/{project_id}/stage",
        (needs(Action.stage, project_target(wf, variant)),),
        form={"to": "negotiating", "version": wf.version(Project, project_id)},
        record=(Project, project_id),
    )


# 企业诉求 /cases
def case_target(wf: Wf, variant: str) -> Target:
    chain, unit = wf.place(variant)
    return Target(Kind.case, chain, unit)


@route("GET", "/cases", "-", "A", "B")
def _cases_page(wf: Wf, variant: str) -> Attempt:
    return Attempt(
        f"/cases{query(variant)}",
        view_chain(wf, Kind.case, variant),
        check=listing_check(wf, Case, Kind.case, "/cases", variant, paged=True),
    )


@route("GET", "/cases/new", "-", "A", "B")
def _case_new(wf: Wf, variant: str) -> Attempt:
    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        allowed = may_somewhere(actor, Kind.case, Action.create, wf.world.state.atlas)
        return form_offered(response.text, allowed, "new case")

    return Attempt(f"/cases/new{query(variant)}", view_chain(wf, Kind.case, variant), check=check)


@route("POST", "/cases", "A", "B", "A assigned to unit_a", "B assigned to unit_a")
def _case_create(wf: Wf, variant: str) -> Attempt:
    """Raising a case needs `create` on its chain; giving it a unit at once, `assign` too."""
    chain = CHAINS[variant[0]]
    form = {
        "title": f"新诉求{wf.n()}",
        "source": "enterprise",
        "category": "finance",
        "chain_id": chain,
        "enterprise_name": "梧州测试企业有限公司",
        "raised_on": TODAY.isoformat(),
    }
    rules = [needs(Action.create, Target(Kind.case, chain_id=chain))]
    if "assigned" in variant:
        unit = wf.units["unit_a"]
        form |= {"unit_id": str(unit), "deadline": (TODAY + timedelta(days=10)).isoformat()}
        rules.append(needs(Action.assign, Target(Kind.case, chain, unit)))
    return Attempt("/cases", tuple(rules), form=form)


@route("GET", "/cases/{case_id}", *PLACES)
def _case_page(wf: Wf, variant: str) -> Attempt:
    case_id, target = wf.cases[variant], case_target(wf, variant)

    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        page = response.text
        problems = offered(page, 'id="act-edit"', may(actor, Action.edit, target), "edit")
        for action in case_service.allowed_actions("assigned"):
            allowed = may(actor, action, target)
            problems += offered(page, f'id="act-{action.value}"', allowed, action.value)
        return problems

    return Attempt(f"/cases/{case_id}", (needs(Action.view, target),), check=check)


CASE_ACTIONS: dict[str, tuple[Action, str, Callable[[Wf, str], dict[str, str]]]] = {
    # path → (action, the state the fresh case is in, the form's fields)
    "assign": (
        Action.assign,
        "assigned",
        lambda wf, variant: {
            "unit_id": str(wf.place(variant)[1]),
            "deadline": (TODAY + timedelta(days=45)).isoformat(),
            "note": "延期",
        },
    ),
    "start": (Action.start, "assigned", lambda wf, variant: {"note": "已对接"}),
    "resolve": (Action.resolve, "in_progress", lambda wf, variant: {"resolution": "已解决"}),
    "confirm": (Action.confirm, "resolved", lambda wf, variant: {"note": "企业确认"}),
    "reopen": (Action.reopen, "resolved", lambda wf, variant: {"reason": "企业反映仍未解决"}),
    "edit": (
        Action.edit,
        "assigned",
        lambda wf, variant: {
            "title": f"改过的诉求{wf.n()}",
            "description": "补充说明",
            "enterprise_name": "梧州测试企业有限公司",
            "category": "energy",
        },
    ),
}


def _case_action(name: str) -> Callable[[Wf, str], Attempt]:
    action, state, fields = CASE_ACTIONS[name]

    def build(wf: Wf, variant: str) -> Attempt:
        case_id = wf.new_case(variant, state)
        return Attempt(
            f"/cases/{case_id}/{name}",
            (needs(action, case_target(wf, variant)),),
            form={"version": wf.version(Case, case_id), **fields(wf, variant)},
            record=(Case, case_id),
        )

    return build


for _name in CASE_ACTIONS:
    route("POST", f"/cases/{{case_id}}/{_name}", *PLACES)(_case_action(_name))


# 调度会 /meetings
def meeting_target(variant: str) -> Target:
    return Target(Kind.review_meeting, chain_id=CHAINS[variant])


@route("GET", "/meetings", "-", "A", "B")
def _meetings_page(wf: Wf, variant: str) -> Attempt:
    return Attempt(
        f"/meetings{query(variant)}",
        view_chain(wf, Kind.review_meeting, variant),
        check=listing_check(
            wf, ReviewMeeting, Kind.review_meeting, "/meetings", variant, paged=False
        ),
    )


@route("GET", "/meetings/new", "-", "A", "B")
def _meeting_new(wf: Wf, variant: str) -> Attempt:
    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        allowed = may_somewhere(actor, Kind.review_meeting, Action.create, wf.world.state.atlas)
        return form_offered(response.text, allowed, "new meeting")

    return Attempt(
        f"/meetings/new{query(variant)}", view_chain(wf, Kind.review_meeting, variant), check=check
    )


@route("POST", "/meetings", "A", "B")
def _meeting_create(wf: Wf, variant: str) -> Attempt:
    return Attempt(
        "/meetings",
        (needs(Action.create, meeting_target(variant)),),
        form={
            "chain_id": CHAINS[variant],
            "held_on": TODAY.isoformat(),
            "title": f"第{wf.n()}次调度会",
            "place": "市政府 3 楼会议室",
            "chair": "李明",
            "attendees": "王科长 链长办\n赵主任（自然资源局）",
            "stalled_days": "30",
        },
    )


@route("GET", "/meetings/{meeting_id}", "A", "B")
def _meeting_page(wf: Wf, variant: str) -> Attempt:
    meeting_id, target = wf.meetings[variant], meeting_target(variant)

    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        editable = may(actor, Action.edit, target)
        page, problems = response.text, []
        for part in ("decisions", "agenda", "edit"):
            marker = f'action="/meetings/{meeting_id}/{part}"'
            problems += offered(page, marker, editable, part)
        return problems

    return Attempt(f"/meetings/{meeting_id}", (needs(Action.view, target),), check=check)


@route("GET", "/meetings/{meeting_id}/minutes.docx", "A", "B")
def _minutes_docx(wf: Wf, variant: str) -> Attempt:
    target = meeting_target(variant)
    return Attempt(f"/meetings/{wf.meetings[variant]}/minutes.docx", (needs(Action.view, target),))


@route("GET", "/meetings/{meeting_id}/minutes.pdf", "A", "B")
def _minutes_pdf(wf: Wf, variant: str) -> Attempt:
    target = meeting_target(variant)
    return Attempt(f"/meetings/{wf.meetings[variant]}/minutes.pdf", (needs(Action.view, target),))


@route("POST", "/meetings/{meeting_id}/decisions", "A note", "B note", "A new case", "B new case")
def _meeting_decide(wf: Wf, variant: str) -> Attempt:
    """A decision on the meeting (`edit`); one that becomes a case also raises and assigns
    a case on the meeting's chain."""
    chain_variant, mode = variant.split(" ", 1)
    meeting_id = wf.new_meeting(chain_variant)
    target = meeting_target(chain_variant)
    rules = [needs(Action.edit, target)]
    form = {"decision": f"决定{wf.n()}", "mode": "note"}
    if mode == "new case":
        chain = CHAINS[chain_variant]
        unit = wf.units["unit_a" if chain == A else "nev_office"]
        form |= {
            "mode": "new_case",
            "unit_id": str(unit),
            "deadline": (TODAY + timedelta(days=15)).isoformat(),
            "title": "会议交办事项",
        }
        rules += [
            needs(Action.create, Target(Kind.case, chain_id=chain)),
            needs(Action.assign, Target(Kind.case, chain, unit)),
        ]
    return Attempt(
        f"/meetings/{meeting_id}/decisions",
        tuple(rules),
        form=form,
        record=(ReviewMeeting, meeting_id),
    )


@route("POST", "/meetings/{meeting_id}/agenda", "A", "B")
def _meeting_agenda(wf: Wf, variant: str) -> Attempt:
    meeting_id = wf.new_meeting(variant)
    return Attempt(
        f"/meetings/{meeting_id}/agenda",
        (needs(Action.edit, meeting_target(variant)),),
        form={"version": wf.version(ReviewMeeting, meeting_id), "stalled_days": "1"},
        record=(ReviewMeeting, meeting_id),
    )


@route("POST", "/meetings/{meeting_id}/edit", "A", "B")
def _meeting_edit(wf: Wf, variant: str) -> Attempt:
    meeting_id = wf.new_meeting(variant)
    return Attempt(
        f"/meetings/{meeting_id}/edit",
        (needs(Action.edit, meeting_target(variant)),),
        form={
            "version": wf.version(ReviewMeeting, meeting_id),
            "held_on": TODAY.isoformat(),
            "title": "改过的调度会",
            "place": "市政府",
            "chair": "李明",
            "summary": "会议听取了项目进展汇报。",
            "attendees": "王科长 链长办",
        },
        record=(ReviewMeeting, meeting_id),
    )


# 考核 /kpis
@route("GET", "/kpis", "-", "A", "B")
def _kpis_page(wf: Wf, variant: str) -> Attempt:
    def check(client: TestClient, response: Any, actor: Actor) -> list[str]:
        saves = may(actor, Action.edit, Target(Kind.kpi_weights))
        return offered(response.text, 'action="/kpis/weights"', saves, "save the weights")

    return Attempt(f"/kpis{query(variant)}", view_chain(wf, Kind.chain, variant), check=check)


@route("POST", "/kpis/weights", "-", "A")
def _kpis_save_weights(wf: Wf, variant: str) -> Attempt:
    """The year's assessment weights: the defaults, saved (no version: no conflict check)."""
    weights = {WEIGHT_PREFIX + c.id: f"{c.default_weight or 1:g}" for c in WEIGHT_COLUMNS}
    return Attempt(
        "/kpis/weights",
        (needs(Action.edit, Target(Kind.kpi_weights)),),
        form={
            "start": TODAY.replace(month=1, day=1).isoformat(),
            "end": TODAY.isoformat(),
            "chain": chain_of(variant) or "",
            **weights,
        },
    )


def _stub_pdf(minutes: Any, path: Any) -> Any:
    """The minutes PDF without Chromium (printing is tested in test_web_workflow_meetings):
    what is checked here is who gets past `get_meeting`'s access check to the printing."""
    path.write_bytes(b"%PDF-1.7 stub")
    return path


MATRIX = [
    pytest.param(method, path, variant, user, id=f"{method} {path} [{variant}] {user}")
    for (method, path), spec in ROUTES.items()
    for variant in spec.variants
    for user in USERS
]


# --- the tests ------------------------------------------------------------------------------
def test_every_chain_chief_route_is_in_the_matrix(wf: Wf) -> None:
    """The app's routes under /org, /projects, /cases, /meetings and /kpis are exactly those
    the matrix covers: a new route fails here until its expectations are written."""
    in_app = set(wf.permissions)
    covered = set(ROUTES)
    assert in_app - covered == set(), (
        f"routes not covered by the matrix: {sorted(in_app - covered)}"
    )
    assert covered - in_app == set(), (
        f"routes in the matrix the app lacks: {sorted(covered - in_app)}"
    )
    assert len(in_app) >= 40


def test_the_users_act_as_the_organisation_says(wf: Wf) -> None:
    """The expectations read the actors built from the organisation set up here; the app
    builds them from the database (`actor_for`): the two agree."""
    with wf.session() as session:
        for name in USERS:
            user = session.get(User, wf.user_ids[name])
            assert org.actor_for(session, user) == wf.actors[name], name
    roles = {Role(wf.actors[name].role) for name in USERS}
    assert roles == set(Role), "every role has a user"


@pytest.mark.parametrize(("method", "path", "variant", "user"), MATRIX)
def test_each_role_gets_what_the_access_table_gives(
    wf: Wf, method: str, path: str, variant: str, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path.endswith("minutes.pdf"):
        monkeypatch.setattr(workflow_meetings, "minutes_pdf", _stub_pdf)
    attempt = ROUTES[(method, path)].attempt(wf, variant)
    actor, client = wf.actors[user], wf.clients[user]
    refusal = next((rule for rule in attempt.rules if not rule.holds(actor)), None)
    by_access = attempt.ok if refusal is None else refusal.refused
    demanded = wf.permissions[(method, path)]
    by_permission = all(allows(actor.role, p) for p in demanded)
    expected = by_access if by_permission else 403
    why = refusal.what if refusal else "allowed by " + "; ".join(r.what for r in attempt.rules)
    if not by_permission:
        why = f"the route demands {sorted(p.value for p in demanded)}"

    before = wf.snapshot(attempt.record) if method == "POST" else None
    if method == "GET":
        response = client.get(attempt.url, follow_redirects=False)
    else:
        data = {"csrf_token": wf.tokens[user], **(attempt.form or {})}
        response = client.post(attempt.url, data=data, files=attempt.files, follow_redirects=False)
    where = f"{method} {attempt.url} as {user} ({actor.role})"
    assert response.status_code == expected, (
        f"{where}: expected {expected} ({why}), got {response.status_code}: {response.text[:300]}"
    )
    if method == "POST":
        after = wf.snapshot(attempt.record)
        if expected == attempt.ok:
            assert after != before, f"{where}: allowed, yet nothing changed"
        else:
            assert after == before, f"{where}: refused ({why}), yet something changed"
    elif expected == attempt.ok and attempt.check is not None:
        problems = attempt.check(client, response, actor)
        assert not problems, f"{where}: " + "; ".join(problems)
    if not by_permission and by_access == attempt.ok:
        pytest.fail(
            f"CONTRADICTION {method} {path} as {user} ({actor.role}): the access table allows "
            f"it ({'; '.join(r.what for r in attempt.rules)}), expected {attempt.ok}, got 403 "
            f"— the route demands {sorted(p.value for p in demanded)}"
        )


def test_a_record_that_does_not_exist_is_refused_and_changes_nothing(wf: Wf) -> None:
    """Every route on a row id, as the administrator (who may do anything), on an id no row
    has: the page names the missing id with one client error status for all (422, as any
    other `UserError`: the app has no 404 for a missing workflow record), never a page, a
    redirect or a 5xx; nothing changes."""
    client, missing = wf.clients["admin"], str(2**31 - 1)
    statuses: dict[str, int] = {}
    before = wf.snapshot(None)
    for method, path in sorted(wf.permissions):
        url = path.replace("{chain_id}", A)
        if "_id}" not in url:
            continue
        url = re.sub(r"\{\w+_id\}", missing, url)
        if method == "GET":
            response = client.get(url + ("?to=negotiating" if url.endswith("/stage") else ""))
        else:
            form = {
                "csrf_token": wf.tokens["admin"],
                "version": "1",
                "to": "negotiating",
                "user_id": str(wf.user_ids["spare"]),
            }
            response = client.post(url, data=form, follow_redirects=False)
        statuses[f"{method} {path}"] = response.status_code
        assert missing in response.text, f"{method} {path}: the missing id is not named"
    assert wf.snapshot(None) == before
    assert len(statuses) >= 20
    assert set(statuses.values()) == {422}, statuses
