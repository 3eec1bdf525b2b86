"""A failed or killed load leaves the warehouse exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import ENTERPRISE_SCHEMA, TOY_TEMPLATE, firm, toy_firms

from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_enterprises

SNAPSHOT_SQL = {
    "enterprises": "SELECT * FROM enterprises ORDER BY uscc",
    "assignments": "SELECT * FROM assignments ORDER BY uscc, chain_id, node_id",
    "node_facts": "SELECT * FROM node_facts ORDER BY ALL",
    "chain_facts": "SELECT * FROM chain_facts ORDER BY ALL",
}


def snapshot(path: Path) -> dict[str, pl.DataFrame]:
    with Warehouse(path, read_only=True) as wh:
        return {name: wh.sql(q) for name, q in SNAPSHOT_SQL.items()}


def same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> bool:
    return all(a[k].equals(b[k]) for k in a)


KILL_SCRIPT = """
import sys, polars as pl
from chainatlas.atlas import parse_template
from chainatlas.engine.warehouse import Warehouse
from chainatlas.services.load import load_enterprises
sys.path.insert(0, {root!r})
from tests.conftest import TOY_TEMPLATE, ENTERPRISE_SCHEMA, firm
rows = [firm(1000 + i, "450403", "乙件制造") for i in range(2000)]
wh = Warehouse({path!r})
load_enterprises(wh, pl.DataFrame(rows, schema=ENTERPRISE_SCHEMA), {{"toy": parse_template(TOY_TEMPLATE, "t")}})
print("COMMITTED", flush=True)
"""


def test_killed_load_leaves_the_warehouse_as_it_was(tmp_path: Path, toy_chain) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        load_enterprises(wh, toy_firms(), {"toy": toy_chain})
    before = snapshot(path)
    script = KILL_SCRIPT.format(root=str(Path(__file__).parents[2]), path=str(path))
    env = {**os.environ, "CHAINATLAS_FAULT_PAUSE_IN_LOAD": "60"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "FAULT-PAUSE"  # inside the transaction, rows already written
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    after = snapshot(path)
    assert same(before, after)
    # the same load, not killed, does change the warehouse
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "COMMITTED" in done.stdout, done.stderr
    assert snapshot(path)["enterprises"].height == before["enterprises"].height + 2000


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fail_at=st.sampled_from(["replace_rows", "delete_where_in", "append", "materialize"]),
    n=st.integers(min_value=1, max_value=30),
)
def test_a_failure_at_any_write_step_changes_nothing(
    tmp_path_factory, toy_chain, fail_at: str, n: int
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("atomic") / "w.duckdb"
    with Warehouse(path) as wh:
        load_enterprises(wh, toy_firms(), {"toy": toy_chain})
    before = snapshot(path)
    rows = pl.DataFrame(
        [firm(2000 + i, "440106", "乙件制造") for i in range(n)], schema=ENTERPRISE_SCHEMA
    )
    with Warehouse(path) as wh:
        original = getattr(wh, fail_at)

        def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            original(*args, **kwargs)
            raise OSError("disk full (simulated)")

        setattr(wh, fail_at, broken)
        with pytest.raises(OSError):
            load_enterprises(wh, rows, {"toy": toy_chain})
    assert same(before, snapshot(path))


def test_reload_upserts_by_uscc(toy_warehouse, toy_chain) -> None:  # type: ignore[no-untyped-def]
    moved = pl.DataFrame([firm(1, "440106", "乙件制造", 5.0)], schema=ENTERPRISE_SCHEMA)
    before = toy_warehouse.count("enterprises")
    load_enterprises(toy_warehouse, moved, {"toy": toy_chain})
    assert toy_warehouse.count("enterprises") == before
    row = toy_warehouse.sql(
        "SELECT region_code, city_code FROM enterprises WHERE uscc='T00000000000000001'"
    )
    assert row.row(0) == ("440106", "440100")
    nodes = toy_warehouse.sql("SELECT node_id FROM assignments WHERE uscc='T00000000000000001'")
    assert nodes["node_id"].to_list() == ["b"]


_ = TOY_TEMPLATE
