"""Shared fixtures, built in code from fixed data (DESIGN §9)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import settings as hypothesis_settings

from chainatlas.atlas import Chain, parse_template
from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA

TOY_TEMPLATE = """\
id: toy
name_zh: 示例链
name_en: Toy chain
nodes:
  - {id: a, name_zh: 甲料, name_en: A material, stage: upstream, industry_codes: ["2611"], include: [甲料生产]}
  - {id: b, name_zh: 乙件, name_en: B part, stage: midstream, industry_codes: ["3311"], include: [乙件制造]}
  - {id: c, name_zh: 丙品, name_en: C product, stage: downstream, industry_codes: ["3911"], include: [丙品组装]}
  - {id: d, name_zh: 丁类服务, name_en: D service, stage: support, industry_codes: ["7451"], include: [丁类服务]}
edges:
  - {supplier: a, customer: b}
  - {supplier: b, customer: c}
  - {supplier: d, customer: b}
"""

ENTERPRISE_SCHEMA = ENTERPRISES_SCHEMA

# the suite's property tests draw the same examples on every run (a CI run must not fail on
# a draw no one has seen); HYPOTHESIS_PROFILE=explore draws new ones while developing
hypothesis_settings.register_profile("default", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def toy_chain() -> Chain:
    return parse_template(TOY_TEMPLATE, "toy.yaml")


def firm(
    i: int,
    region: str,
    scope: str,
    capital: float = 100.0,
    *,
    deregistered: dt.date | None = None,
    tags: str | None = None,
) -> dict[str, object]:
    return {
        "uscc": f"T{i:017d}",
        "name": f"测试企业{i}",
        "region_code": region,
        "industry_code": None,
        "established": dt.date(2015, 1, 1),
        "deregistered": deregistered,
        "registered_capital": capital,
        "revenue": None,
        "employees": 10,
        "business_scope": scope,
        "products": None,
        "tags": tags,
        "synthetic": False,
    }


def toy_firms() -> pl.DataFrame:
    """梧州 (450403): a×4 (one of capital 1000), c×3, d×1, b×1 deregistered;
    广州 (440106): a×2, b×6, c×5, d×1.  Hand-worked figures in tests/diagnose."""
    rows = []
    i = 0
    plan = [
        ("450403", "甲料生产", 4),
        ("450403", "丙品组装", 3),
        ("450403", "丁类服务", 1),
        ("440106", "甲料生产", 2),
        ("440106", "乙件制造", 6),
        ("440106", "丙品组装", 5),
        ("440106", "丁类服务", 1),
    ]
    for region, scope, count in plan:
        for _ in range(count):
            i += 1
            rows.append(
                firm(i, region, f"{scope}；一般项目：技术服务", 1000.0 if i == 1 else 100.0)
            )
    rows.append(firm(99, "450403", "乙件制造", deregistered=dt.date(2020, 5, 1)))
    return pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA)


@pytest.fixture()
def toy_warehouse(tmp_path: Path, toy_chain: Chain):  # type: ignore[no-untyped-def]
    from chainatlas.engine.warehouse import Warehouse
    from chainatlas.services.load import load_enterprises

    wh = Warehouse(tmp_path / "toy.duckdb")
    load_enterprises(wh, toy_firms(), {"toy": toy_chain})
    yield wh
    wh.close()


# --- the app database on SQLite and on PostgreSQL ------------------------------------------
# `./dev.sh test` starts a PostgreSQL on loopback and sets CHAINATLAS_TEST_DATABASE_URL (a
# role allowed to create databases); each test gets a database of its own, dropped after.
PG_ENV = "CHAINATLAS_TEST_DATABASE_URL"


def _fresh_postgres_database() -> tuple[str, Callable[[], None]]:
    import os
    import time
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.fail(
            f"{PG_ENV} is not set: run the suite with ./dev.sh test, which starts PostgreSQL, "
            "or point it at a server where the role may CREATE DATABASE"
        )
    name = f"chainatlas_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    # two test workers creating databases at once: PostgreSQL refuses a copy of template1
    # while another session is copying it ("being accessed by other users"); wait and retry
    for attempt in range(20):
        try:
            with admin.connect() as con:
                con.execute(text(f'CREATE DATABASE "{name}"'))
            break
        except DBAPIError as exc:
            if attempt == 19 or "being accessed by other users" not in str(exc):
                raise
            time.sleep(0.2)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        # an autovacuum worker may be on the new database: FORCE ends it (the role is granted
        # pg_signal_backend by dev.sh); retry briefly, and always release the admin engine
        try:
            for attempt in range(10):
                try:
                    with admin.connect() as con:
                        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    return
                except DBAPIError:
                    if attempt == 9:
                        raise
                    time.sleep(0.5)
        finally:
            admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty app database on each engine the platform supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    url, drop = _fresh_postgres_database()
    try:
        yield url
    finally:
        drop()
