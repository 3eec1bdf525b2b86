"""GB/T 4754-2017 class names (4-digit) for the codes the shipped templates use."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def industry_code_names() -> dict[str, str]:
    text = resources.files("chainatlas.reference").joinpath("data/industry_codes.csv").read_text("utf-8")
    return {row["code"]: row["name_zh"] for row in csv.DictReader(text.splitlines())}
