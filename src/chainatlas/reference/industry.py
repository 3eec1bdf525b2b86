"""GB/T 4754-2017 (国民经济行业分类) sections, divisions, groups and classes.

`data/industry_codes.csv` (code, name_zh, level, parent) was compiled from two independent
public copies of the standard's code list, which agree on every code; it is shipped with
the package, so nothing is fetched at run time.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def industry_table() -> list[dict[str, str]]:
    text = (
        resources.files("chainatlas.reference")
        .joinpath("data/industry_codes.csv")
        .read_text("utf-8")
    )
    return list(csv.DictReader(text.splitlines()))


@cache
def industry_code_names() -> dict[str, str]:
    """4-digit class code → Chinese name."""
    return {r["code"]: r["name_zh"] for r in industry_table() if r["level"] == "class"}
