"""Checks of the values people type into CPPCC records: region codes, chain ids, enterprise
codes, years, percentages. Each failure is a UserError naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chainatlas.atlas.model import Chain
from chainatlas.errors import UserError
from chainatlas.ingest.validators import is_valid_uscc
from chainatlas.workflow.edits import text


def region_code(value: str | None) -> str:
    """A 6-digit GB/T 2260 code, or "" (the deployment's own region)."""
    code = (value or "").strip()
    if code and not (len(code) == 6 and code.isdigit()):
        raise UserError(
            f"行政区划代码「{code}」无效：应为 6 位数字",
            f"invalid region code {code!r}: 6 digits expected",
        )
    return code


def chain_id(value: str | None, chains: Mapping[str, Chain] | None) -> str | None:
    """An atlas chain id or None; checked against `chains` when given."""
    cleaned = text(value, 64, "产业链", "chain", required=False)
    if not cleaned:
        return None
    if chains is not None and cleaned not in chains:
        raise UserError(f"未知产业链「{cleaned}」", f"unknown chain {cleaned!r}")
    return cleaned


def chain_ids(values: Iterable[str], chains: Mapping[str, Chain] | None) -> list[str]:
    """Distinct chain ids in the order given."""
    found: list[str] = []
    for value in values:
        cleaned = chain_id(value, chains)
        if cleaned and cleaned not in found:
            found.append(cleaned)
    return found


def uscc(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    if not code:
        return None
    if not is_valid_uscc(code):
        raise UserError(
            f"企业统一社会信用代码「{code}」无效：应为 18 位且校验位正确",
            f"invalid enterprise USCC {code!r}: 18 characters with a correct check digit",
        )
    return code


def year(value: int) -> int:
    if not 1949 <= int(value) <= 2200:
        raise UserError(f"年度 {value} 无效", f"invalid year {value}")
    return int(value)


def percent(
    value: float | None, field_zh: str = "进度", field_en: str = "progress"
) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not 0 <= number <= 100:
        raise UserError(
            f"{field_zh}应在 0 到 100 之间（现为 {value}）",
            f"{field_en} must be between 0 and 100 (got {value})",
        )
    return number


def as_json(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(detail or {}), ensure_ascii=False, default=str)
