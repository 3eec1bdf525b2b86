"""履职统计 and 履职计分: the yearly figures CPPCC work reports publish (consultations held,
enterprise visits, investment events, difficulties coordinated and solved …) for the whole
system and per member, computed from the records (`cppcc.assessment.yearly_report`), with a
bar chart, the sentence a work report would print and an XLSX; and the year's duty scoring
rules (points and caps per item, edited by the CPPCC staff with a message per field) with
the members' scores ranked under them (`assessment.member_scores`), also as XLSX.

What each user counts is what it may see: a chain office's figures are those of its
chains' meetings and duty records."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import polars as pl
import xlsxwriter
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from chainatlas.accounts.models import User
from chainatlas.cppcc import assessment
from chainatlas.cppcc.groups import group_name
from chainatlas.cppcc.scoring import ITEM_NAMES, ScoringRules, check_rules
from chainatlas.cppcc.statistics import FIGURES
from chainatlas.cppcc.vocabulary import CONSULTATION_KIND_NAMES, DUTY_KIND_NAMES
from chainatlas.errors import UserError
from chainatlas.web.i18n import translate
from chainatlas.web.routes._cppcc import cppcc_context
from chainatlas.web.routes._workflow import (
    XLSX_TYPE,
    attachment,
    failure_status,
    is_scoped,
    message,
    parse_id,
    reraise_refusal,
    workflow_session,
)
from chainatlas.web.routes.cppcc_duties import parse_year
from chainatlas.web.security import Viewer
from chainatlas.web.templating import language, render
from chainatlas.workflow.access import Action, Actor, Kind, Scope, Target, require, scopes
from chainatlas.workflow.edits import local_today

router = APIRouter()
# a sane range for what a person types as points and caps
MAX_POINTS = 1000.0
MAX_CAP = 100_000.0
# the per-member columns, in the order a work report lists them
MEMBER_COLUMNS: tuple[str, ...] = (
    "consultations_attended",
    "topical_attended",
    "consultations_missed",
    *(f"duties_{k}" for k in DUTY_KIND_NAMES),
    "difficulties_coordinated",
    "difficulties_solved",
)
# the system table: figure → indented under the one before it
SYSTEM_ROWS: tuple[tuple[str, bool], ...] = (
    ("consultations_held", False),
    *((f"consultations_{k}", True) for k in CONSULTATION_KIND_NAMES),
    *((f"duties_{k}", False) for k in DUTY_KIND_NAMES),
    ("members_active", False),
    ("difficulties_coordinated", False),
    ("difficulties_solved", False),
)


def _year(value: str) -> int:
    """The year asked for; this year when none is."""
    year = parse_year(value)
    return local_today().year if year is None else year


def _sees_roster(actor: Actor) -> bool:
    return Scope.any in scopes(actor, Kind.cppcc_member, Action.view)


def member_rows(report: assessment.YearlyReport, actor: Actor) -> list[dict[str, Any]]:
    """The per-member table, busiest first. A user who may not read the roster (a chain
    office, a member unit) sees only the members its records name."""
    table = report.members
    if not _sees_roster(actor):
        table = table.filter(pl.any_horizontal([pl.col(c) > 0 for c in MEMBER_COLUMNS]))
    total = pl.sum_horizontal([pl.col(c) for c in MEMBER_COLUMNS if c != "consultations_missed"])
    return (
        table.with_columns(activity=total)
        .sort(["activity", "member_name"], descending=[True, False])
        .to_dicts()
    )


def report_sentence(figures: Mapping[str, int], year: int, lang: str) -> str:
    """The figures as a CPPCC work report would print them, e.g. "2025年，全年开展专题协商
    4次（各类协商共6次），委员走访企业12家次，…，协调企业困难问题5个、已解决3个。" The core
    figures are always named; the other duty kinds when there were any."""

    def t(key: str, **values: Any) -> str:
        return translate(key, lang, **values)

    parts = [
        t(
            "cpd_s_consultations",
            year=year,
            topical=figures["consultations_topical"],
            held=figures["consultations_held"],
        ),
        t("cpd_s_visit", n=figures["duties_visit"]),
        t("cpd_s_investment_event", n=figures["duties_investment_event"]),
    ]
    for kind in ("research", "speech", "proposal", "matchmaking", "village_pairing"):
        if figures[f"duties_{kind}"]:
            parts.append(t(f"cpd_s_{kind}", n=figures[f"duties_{kind}"]))
    parts.append(
        t(
            "cpd_s_difficulties",
            coordinated=figures["difficulties_coordinated"],
            solved=figures["difficulties_solved"],
        )
    )
    return t("cpd_s_join").join(parts) + t("cpd_s_end")


def _label(names: tuple[str, str], lang: str) -> str:
    return names[1] if lang == "en" else names[0]


def chart_data(figures: Mapping[str, int], lang: str) -> dict[str, Any]:
    """Counts by kind for the bar chart: the consultations held, then the duty records."""
    bars = [
        {"name": _label(n, lang), "value": figures[f"consultations_{k}"], "group": "meeting"}
        for k, n in CONSULTATION_KIND_NAMES.items()
    ]
    bars += [
        {"name": _label(n, lang), "value": figures[f"duties_{k}"], "group": "duty"}
        for k, n in DUTY_KIND_NAMES.items()
    ]
    bars.append(
        {
            "name": translate("cpd_chart_solved", lang),
            "value": figures["difficulties_solved"],
            "group": "case",
        }
    )
    return {
        "bars": bars,
        "groups": {
            "meeting": translate("cpd_chart_meetings", lang),
            "duty": translate("cpd_chart_duties", lang),
            "case": translate("cpd_chart_cases", lang),
        },
    }


@router.get("/cppcc/statistics", include_in_schema=False)
def statistics_page(
    request: Request, user: Viewer, year: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    lang = language(request)
    with workflow_session(request, user) as (session, actor):
        chosen = _year(year)
        report = assessment.yearly_report(session, actor, chosen)
        this_year = local_today().year
        return render(
            request,
            "cp_statistics.html",
            user,
            **cppcc_context(request, user, actor),
            year=chosen,
            years=sorted({*range(this_year, this_year - 6, -1), chosen}, reverse=True),
            figures=report.system,
            figure_names=FIGURES,
            system_rows=SYSTEM_ROWS,
            members=member_rows(report, actor),
            member_columns=MEMBER_COLUMNS,
            kind_names=DUTY_KIND_NAMES,
            sentence=report_sentence(report.system, chosen, lang),
            chart=chart_data(report.system, lang),
            scoped=is_scoped(actor),
            group_name=group_name,
        )


def _book(build: Callable[[Any, dict[str, Any]], None]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    formats = {
        "head": book.add_format(
            {"bold": True, "bg_color": "#e5edf7", "border": 1, "text_wrap": True}
        ),
        "big": book.add_format({"bold": True, "font_size": 14}),
        "sub": book.add_format({"indent": 2}),
        "score": book.add_format({"num_format": "0.##"}),
    }
    build(book, formats)
    book.close()
    return out.getvalue()


def statistics_xlsx(report: assessment.YearlyReport, rows: list[dict[str, Any]]) -> bytes:
    """Sheet 全系统: one figure a row; sheet 委员: one member a row."""

    def build(book: Any, fmt: dict[str, Any]) -> None:
        system = book.add_worksheet("全系统")
        system.write(0, 0, f"{report.year}年度政协履职统计", fmt["big"])
        system.write(1, 0, report_sentence(report.system, report.year, "zh"))
        system.write_row(2, 0, ["指标", "数量"], fmt["head"])
        system.set_column(0, 0, 34)
        system.set_column(1, 1, 10)
        for r, (key, indented) in enumerate(SYSTEM_ROWS, start=3):
            system.write(r, 0, FIGURES[key][0], fmt["sub"] if indented else None)
            system.write_number(r, 1, report.system[key])
        members = book.add_worksheet("委员")
        members.write(0, 0, f"{report.year}年度委员履职统计", fmt["big"])
        headers = ["委员", "党派界别", *(FIGURES[c][0] for c in MEMBER_COLUMNS)]
        members.write_row(1, 0, headers, fmt["head"])
        members.set_column(0, 1, 12)
        members.set_column(2, len(headers), 11)
        members.set_row(1, 48)
        for r, row in enumerate(rows, start=2):
            members.write(r, 0, row["member_name"] or "")
            members.write(r, 1, group_name(row["group_id"]))
            for c, key in enumerate(MEMBER_COLUMNS, start=2):
                members.write_number(r, c, int(row[key]))

    return _book(build)


@router.get("/cppcc/statistics.xlsx", include_in_schema=False)
def export_statistics(
    request: Request, user: Viewer, year: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    with workflow_session(request, user) as (session, actor):
        chosen = _year(year)
        report = assessment.yearly_report(session, actor, chosen)
        body = statistics_xlsx(report, member_rows(report, actor))
    title = f"{chosen}年度政协履职统计"
    return Response(
        body,
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": attachment(f"{title}.xlsx", f"cppcc-statistics-{chosen}.xlsx")
        },
    )


# --- scoring ----------------------------------------------------------------------------------
class RulesForm(BaseModel):
    """The rules form: `points_<item>` and `cap_<item>` for every scored item (extra fields,
    so a new item needs no change here), `total_cap`, the year and the version."""

    model_config = ConfigDict(extra="allow")

    year: str = Field("", max_length=8)
    total_cap: str = Field("", max_length=40)
    version: str = Field("", max_length=20)

    def value(self, name: str) -> str:
        extra = self.model_extra or {}
        raw = extra.get(name, "")
        return raw.strip() if isinstance(raw, str) else ""


def rule_values(rules: ScoringRules) -> dict[str, str]:
    """The rules as the form shows them ("" for an item not scored, a cap not set)."""
    values = {"total_cap": "" if rules.total_cap is None else f"{rules.total_cap:g}"}
    for item in ITEM_NAMES:
        rule = rules.items.get(item)
        values[f"points_{item}"] = "" if rule is None else f"{rule.points:g}"
        values[f"cap_{item}"] = "" if rule is None or rule.cap is None else f"{rule.cap:g}"
    return values


def _bounded(value: str, limit: float, low: float, what_zh: str, what_en: str) -> UserError | None:
    if len(value) > 20:
        return UserError(f"{what_zh}过长", f"{what_en} is too long")
    try:
        number = float(value)
    except ValueError:
        return None  # check_rules names it
    if not low <= number <= limit:
        return UserError(
            f"{what_zh}应在 {low:g} 到 {limit:g} 之间（现为 {value}）",
            f"{what_en} must be between {low:g} and {limit:g} (got {value})",
        )
    return None


def parse_rules(
    values: Mapping[str, str],
) -> tuple[dict[str, tuple[object, object]], str | None, dict[str, UserError]]:
    """The items and total cap as typed, and an error per field (`points_visit`, `cap_visit`,
    `total_cap`) in both languages. An item without points is not scored."""
    errors: dict[str, UserError] = {}
    items: dict[str, tuple[object, object]] = {}
    for item, (zh, en) in ITEM_NAMES.items():
        points, cap = values.get(f"points_{item}", ""), values.get(f"cap_{item}", "")
        if not points:
            if cap:
                errors[f"points_{item}"] = UserError(
                    f"「{zh}」设置了上限，请填写分值", f"points of {en}: needed with a cap"
                )
            continue
        found = _bounded(points, MAX_POINTS, -MAX_POINTS, f"「{zh}」的分值", f"points of {en}")
        try:
            check_rules({item: (points, None)})
        except UserError as exc:
            found = exc
        if found is not None:
            errors[f"points_{item}"] = found
        if cap:
            found = _bounded(cap, MAX_CAP, 0, f"「{zh}」的上限", f"cap of {en}")
            try:
                check_rules({item: (0, cap)})
            except UserError as exc:
                found = exc
            if found is not None:
                errors[f"cap_{item}"] = found
        items[item] = (points, cap or None)
    total = values.get("total_cap", "")
    if total:
        found = _bounded(total, MAX_CAP, 0, "总分上限", "total cap")
        try:
            check_rules({}, total)
        except UserError as exc:
            found = exc
        if found is not None:
            errors["total_cap"] = found
    return items, total or None, errors


def _scoring_page(
    request: Request,
    user: User,
    year: int,
    *,
    typed: Mapping[str, str] | None = None,
    field_errors: Mapping[str, UserError] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    with workflow_session(request, user) as (session, actor):
        require(actor, Action.view, Target(Kind.duty_scoring))
        rules, version = assessment.scoring_rules(session, year)
        scores = assessment.member_scores(session, actor, year, rules)
        this_year = local_today().year
        return render(
            request,
            "cp_scoring.html",
            user,
            status_code=status_code,
            **cppcc_context(request, user, actor),
            year=year,
            years=sorted({*range(this_year + 1, this_year - 6, -1), year}, reverse=True),
            rules=rules,
            version=version,
            values=typed if typed is not None else rule_values(rules),
            defaults=rule_values(assessment.DEFAULT_RULES),
            field_errors={k: message(request, e) for k, e in (field_errors or {}).items()},
            error=error,
            item_names=ITEM_NAMES,
            scored=list(rules.items),
            rows=scores.to_dicts(),
            may_edit=Scope.any in scopes(actor, Kind.duty_scoring, Action.edit),
            group_name=group_name,
        )


@router.get("/cppcc/scoring", include_in_schema=False)
def scoring_page(
    request: Request, user: Viewer, year: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    return _scoring_page(request, user, _year(year))


@router.post("/cppcc/scoring", include_in_schema=False)
def save_scoring(request: Request, user: Viewer, form: Annotated[RulesForm, Form()]) -> Response:
    year = _year(form.year)
    typed = {
        name: form.value(name) for item in ITEM_NAMES for name in (f"points_{item}", f"cap_{item}")
    }
    typed["total_cap"] = form.total_cap.strip()
    errors: dict[str, UserError] = {}
    try:
        with workflow_session(request, user) as (session, actor):
            # refused before the values are checked: a reader sees no editor
            require(actor, Action.edit, Target(Kind.duty_scoring))
            items, total_cap, errors = parse_rules(typed)
            if not errors:
                assessment.set_scoring_rules(
                    session,
                    actor,
                    year,
                    items,
                    total_cap,
                    expected_version=parse_id(form.version, "版本", "version"),
                )
    except UserError as exc:
        reraise_refusal(exc)
        return _scoring_page(
            request,
            user,
            year,
            typed=typed,
            error=message(request, exc),
            status_code=failure_status(exc),
        )
    if errors:
        return _scoring_page(
            request,
            user,
            year,
            typed=typed,
            field_errors=errors,
            error=translate("cpd_rules_errors", language(request), n=len(errors)),
            status_code=422,
        )
    return RedirectResponse(f"/cppcc/scoring?year={year}#ranking", status_code=303)


def scores_xlsx(year: int, rules: ScoringRules, rows: list[dict[str, Any]]) -> bytes:
    """The ranking: rank, member, group, per item the count and the points, total."""

    def build(book: Any, fmt: dict[str, Any]) -> None:
        sheet = book.add_worksheet("履职计分")
        sheet.write(0, 0, f"{year}年度委员履职计分排名", fmt["big"])
        headers = ["名次", "委员", "党派界别"]
        for item in rules.items:
            headers += [f"{ITEM_NAMES[item][0]}（次）", f"{ITEM_NAMES[item][0]}（分）"]
        headers += ["合计（封顶前）", "总分"]
        sheet.write_row(1, 0, headers, fmt["head"])
        sheet.set_row(1, 48)
        sheet.set_column(0, 0, 6)
        sheet.set_column(1, 2, 12)
        sheet.set_column(3, len(headers), 10)
        for r, row in enumerate(rows, start=2):
            values: list[Any] = [row["rank"], row["member_name"] or "", group_name(row["group_id"])]
            for item in rules.items:
                values += [row[f"n_{item}"], row[f"points_{item}"]]
            values += [row["raw"], row["score"]]
            for c, value in enumerate(values):
                if isinstance(value, (int, float)):
                    sheet.write_number(r, c, value, fmt["score"])
                else:
                    sheet.write(r, c, value)

    return _book(build)


@router.get("/cppcc/scoring.xlsx", include_in_schema=False)
def export_scores(
    request: Request, user: Viewer, year: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    with workflow_session(request, user) as (session, actor):
        require(actor, Action.view, Target(Kind.duty_scoring))
        chosen = _year(year)
        rules, _version = assessment.scoring_rules(session, chosen)
        rows = assessment.member_scores(session, actor, chosen, rules).to_dicts()
    title = f"{chosen}年度委员履职计分排名"
    return Response(
        scores_xlsx(chosen, rules, rows),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": attachment(f"{title}.xlsx", f"cppcc-scores-{chosen}.xlsx")},
    )
