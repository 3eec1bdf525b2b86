"""A diagnosis weighted by the user's input-output table (docs/io-tables.md): node weights
from the linkages, 延链 directions among the actions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.test_cli import run

from chainatlas.atlas import Chain
from chainatlas.diagnose import diagnose
from chainatlas.services.diagnosis import diagnose_with_io
from chainatlas.settings import Settings

IO = Path(__file__).parents[1] / "data" / "io"
# node weights of the toy chain from tests/data/io/toy_*.csv (hand-checked in test_io_tables)
WEIGHTS = {"a": 0.960578, "b": 1.177709, "c": 1.048504, "d": 0.813209}


def test_io_weights_change_completeness_and_suggest_extension(
    toy_warehouse, toy_chain: Chain
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings()
    plain = diagnose(toy_warehouse, toy_chain, "450403", settings.status, settings.lead_firm)
    weighted = diagnose_with_io(
        toy_warehouse, toy_chain, "450403", settings, IO / "toy_Z.csv", IO / "toy_x.csv"
    )
    assert plain.node_weights == "template" and weighted.node_weights == "io_table"
    assert {n.id: n.weight for n in weighted.nodes} == pytest.approx(WEIGHTS, abs=1e-6)
    # a, c, d present; b (the break) missing: completeness = held weight / total weight
    held = [n.id for n in weighted.nodes if n.status != "missing"]
    assert held == ["a", "c", "d"]
    assert plain.completeness == pytest.approx(0.75)
    assert weighted.completeness == pytest.approx(
        sum(WEIGHTS[i] for i in held) / sum(WEIGHTS.values()),
        abs=5e-5,  # printed to 4 places
    )
    # statuses do not depend on weights
    assert [n.status for n in plain.nodes] == [n.status for n in weighted.nodes]
    io_actions = [a for a in weighted.actions if a.reason_zh.startswith("投入产出关联")]
    # a (forward linkage > 1) extends downstream into b; c (backward > 1) upstream into b
    assert [(a.kind, a.node_ids) for a in io_actions] == [("extend", ["b"]), ("extend", ["b"])]
    assert "前向关联" in io_actions[0].reason_zh and "forward linkage" in io_actions[0].reason_en
    assert len(weighted.actions) == len(plain.actions) + 2


def test_cli_needs_both_io_files(tmp_path: Path) -> None:
    result = run(
        ["diagnose", "-r", "450400", "-c", "sugarcane", "--io-z", str(IO / "toy_Z.csv")],
        tmp_path,
    )
    assert result.returncode == 1 and "--io-x" in result.stderr


def test_schema_lists_node_weights() -> None:
    schema = json.loads(
        (Path(__file__).parents[2] / "docs/schemas/diagnosis-1.schema.json").read_text("utf-8")
    )
    assert schema["properties"]["node_weights"]["enum"] == ["template", "io_table"]
