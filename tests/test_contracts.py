"""The published JSON Schemas in docs/ stay equal to the code that produces the objects."""

import json
from pathlib import Path

from chainatlas.atlas import template_schema
from chainatlas.diagnose.model import Diagnosis

DOCS = Path(__file__).parents[1] / "docs" / "schemas"


def test_diagnosis_schema_is_published() -> None:
    published = json.loads((DOCS / "diagnosis-1.schema.json").read_text("utf-8"))
    assert published == Diagnosis.model_json_schema(by_alias=True)


def test_chain_template_schema_is_published() -> None:
    published = json.loads((DOCS / "chain-template-1.schema.json").read_text("utf-8"))
    assert published == template_schema()


def test_analytics_schemas_are_published() -> None:
    from chainatlas.diagnose.opportunities import Opportunities
    from chainatlas.services.peers import PeerRegions, RegionComparison
    from chainatlas.services.trends import RegionTrends

    for name, model in [
        ("opportunities-1", Opportunities),
        ("trends-1", RegionTrends),
        ("peers-1", PeerRegions),
        ("comparison-1", RegionComparison),
    ]:
        published = json.loads((DOCS / f"{name}.schema.json").read_text("utf-8"))
        assert published == model.model_json_schema(by_alias=True), name


def test_region_targets_schema_is_published() -> None:
    from chainatlas.services.region_lists import RegionTargets

    published = json.loads((DOCS / "region-targets-1.schema.json").read_text("utf-8"))
    assert published == RegionTargets.model_json_schema(by_alias=True)
