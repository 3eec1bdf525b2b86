"""`chainatlas intake`: a meeting report in, a draft record out (JSON contract)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run

SAMPLES = Path(__file__).parent / "cppcc" / "data"


def test_intake_json_on_the_wuzhou_sample(tmp_path: Path) -> None:
    result = run(
        ["intake", str(SAMPLES / "wuzhou_consultation_2025.txt"), "--format", "json"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    draft = json.loads(result.stdout)
    assert draft["schema"] == "chainatlas.intake/1"
    assert draft["date"]["value"] == "2025-07-15"
    assert draft["region"]["region_code"] == "450400"
    assert draft["kind"]["kind"] == "consultation"


def test_intake_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    result = run(["intake", str(empty)], tmp_path)
    assert result.returncode == 1 and "错误" in result.stderr
