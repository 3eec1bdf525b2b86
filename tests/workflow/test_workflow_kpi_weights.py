"""The yearly assessment weights: saved by an administrator, read by everyone, checked, locked
optimistically and audited; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from chainatlas.db.audit import AuditEntry
from chainatlas.db.session import Database
from chainatlas.errors import UserError
from chainatlas.workflow.access import Actor, NotAllowed
from chainatlas.workflow.edits import EditConflict
from chainatlas.workflow.kpi_weights import set_year_weights, year_weights

KNOWN = ("projects_signed", "on_time_rate", "completeness")
ADMIN = Actor.system("admin")


def test_saved_once_read_by_everyone(db: Database, organisation) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        assert year_weights(s, 2026) == (None, None)
        row = set_year_weights(
            s, ADMIN, 2026, {"projects_signed": 3, "on_time_rate": 1}, known=KNOWN,
            expected_version=0,
        )  # fmt: skip
        assert row.version == 1
    with db.session() as s:
        weights, row = year_weights(s, 2026)
        assert weights == {"projects_signed": 3.0, "on_time_rate": 1.0, "completeness": 0.0}
        assert row is not None and row.updated_by == "admin"
        assert year_weights(s, 2025) == (None, None)  # per year
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "kpi.weights.set")).one()
        assert entry.target == "kpi_weights:2026"
        assert json.loads(entry.detail)["weights"]["projects_signed"] == 3.0


def test_only_an_administrator_saves(db: Database, organisation) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        office = organisation.actor(s, "office")
        with pytest.raises(NotAllowed):
            set_year_weights(s, office, 2026, {"projects_signed": 1}, known=KNOWN,
                             expected_version=0)  # fmt: skip
    with db.session() as s:
        assert year_weights(s, 2026) == (None, None)


@pytest.mark.parametrize(
    "weights,year,words",
    [
        ({"projects_signed": -1}, 2026, "0–1000"),
        ({"projects_signed": float("nan")}, 2026, "0–1000"),
        ({"projects_signed": 0}, 2026, "全为 0"),
        ({"bogus": 1}, 2026, "未知的考核指标"),
        ({"projects_signed": 1}, 1999, "考核年度"),
    ],
)
def test_bad_weights_are_refused_and_nothing_is_kept(
    db: Database, organisation, weights: dict[str, float], year: int, words: str
) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s, pytest.raises(UserError) as caught:
        set_year_weights(s, ADMIN, year, weights, known=KNOWN, expected_version=0)
    assert words in caught.value.message_zh and caught.value.message_en
    with db.session() as s:
        assert year_weights(s, year) == (None, None)


def test_a_stale_save_is_a_conflict(db: Database, organisation) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        set_year_weights(s, ADMIN, 2026, {"projects_signed": 1}, known=KNOWN, expected_version=0)
    with db.session() as s:
        set_year_weights(s, ADMIN, 2026, {"projects_signed": 2}, known=KNOWN, expected_version=1)
    for stale in (0, 1):  # a second first save, and an edit of what the other replaced
        with db.session() as s, pytest.raises(EditConflict):
            set_year_weights(
                s, ADMIN, 2026, {"projects_signed": 9}, known=KNOWN, expected_version=stale
            )
    with db.session() as s:
        weights, row = year_weights(s, 2026)
        assert weights is not None and weights["projects_signed"] == 2.0
        assert row is not None and row.version == 2
