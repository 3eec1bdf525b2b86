"""Synthesise, ingest and classify files: read → validate → (classify) → store or write."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from chainatlas.atlas.model import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.reference.regions import region_codes
from chainatlas.services.load import Progress, classify_in_chunks, load_enterprises, load_links
from chainatlas.settings import Settings


def run_synth(n: int, seed: int, out: Path, atlas: Mapping[str, Chain]) -> dict[str, Any]:
    from chainatlas.synth import generate

    summary = generate(n, seed, out, atlas=dict(atlas))
    return summary.as_dict() if hasattr(summary, "as_dict") else dict(vars(summary))


def default_error_path(file: Path) -> Path:
    return file.with_name(file.name + ".errors.csv")


def _validated(file: Path, kind: str, errors: Path | None) -> tuple[pl.DataFrame, dict[str, Any]]:
    from chainatlas.ingest import errors as error_report
    from chainatlas.ingest.enterprises import validate_enterprises
    from chainatlas.ingest.links import validate_links
    from chainatlas.ingest.readers import read_table

    if not file.exists():
        raise UserError(f"文件不存在：{file}", f"no such file: {file}")
    raw = read_table(file, kind="enterprises" if kind == "enterprises" else "supply_links")
    if kind == "enterprises":
        result = validate_enterprises(raw, region_codes())
    else:
        result = validate_links(raw, None)
    error_path = None
    if result.rejected.height or result.warnings.height:
        error_path = errors or default_error_path(file)
        error_report.write_error_file(result.rejected, error_path, result.warnings)
    summary = {
        "file": str(file),
        "rows": raw.height,
        "accepted": result.accepted.height,
        "rejected": result.rejected_rows,
        "problems": result.rejected.height,
        "warnings": result.warnings.height,
        "ignored_columns": list(result.ignored_columns),
        "error_file": str(error_path) if error_path else None,
    }
    return result.accepted, summary


def validate_file(
    file: Path, kind: str, errors: Path | None = None, progress: Progress | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The accepted rows of `file` and the summary `ingest_file` starts from: the same
    validation as `chainatlas ingest`, rejected rows written to `errors` (default: beside
    the file). A file that cannot be read at all is a UserError."""
    from chainatlas.ingest.errors import IngestError

    if progress:
        progress(0.0, "validate")
    try:
        return _validated(file, kind, errors)
    except IngestError as exc:
        raise UserError(exc.message_zh, exc.message_en) from exc


def ingest_file(
    settings: Settings,
    atlas: Mapping[str, Chain],
    file: Path,
    kind: str,
    errors: Path | None = None,
    progress: Progress | None = None,
    *,
    snapshot_date: dt.date | None = None,
) -> dict[str, Any]:
    """Validate `file`, report rejected rows, load the accepted ones in one transaction.

    With `snapshot_date` the file is the whole registry on that date: stored active firms
    missing from it are recorded as deregistered then (in the counties it covers)."""
    if snapshot_date and kind != "enterprises":
        raise UserError(
            "快照日期只用于企业文件", "a snapshot date applies to enterprise files only"
        )
    accepted, summary = _validated(file, kind, errors)
    with Warehouse(settings.warehouse_path) as wh:
        if kind == "enterprises":
            result = load_enterprises(
                wh,
                accepted,
                atlas,
                settings.classify,
                progress,
                deregister_absent=snapshot_date,
            )
            summary["assignments"] = result.assignments
            summary.update(
                changed=result.changed,
                unchanged=result.unchanged,
                reclassified=result.reclassified,
                deregistered_absent=result.deregistered_absent,
                cube_update=result.mode,
            )
        else:
            result = load_links(wh, accepted, progress)
        summary["loaded"] = result.loaded
        summary["seconds"] = round(result.seconds, 2)
        summary["warehouse"] = str(settings.warehouse_path)
    return summary


def classify_file(
    settings: Settings,
    atlas: Mapping[str, Chain],
    file: Path,
    output: Path,
    errors: Path | None = None,
) -> dict[str, Any]:
    """Classify any enterprise file without loading it; one row per assignment."""
    start = time.perf_counter()
    accepted, summary = _validated(file, "enterprises", errors)
    assignments = classify_in_chunks(accepted, atlas, settings.classify)
    output.parent.mkdir(parents=True, exist_ok=True)
    suffix = output.suffix.lower()
    if suffix == ".parquet":
        assignments.write_parquet(output)
    elif suffix == ".json":
        output.write_text(assignments.write_json(), "utf-8")
    elif suffix in (".csv", ".txt", ""):
        assignments.write_csv(output, include_bom=True)
    else:
        raise UserError(f"不支持的输出格式 {suffix}", f"unsupported output format {suffix}")
    summary.update(
        output=str(output),
        assignments=assignments.height,
        classified_firms=int(assignments["uscc"].n_unique()),
        seconds=round(time.perf_counter() - start, 2),
    )
    return summary
