"""What the web app's background jobs do: load an uploaded file, rebuild the classification,
build a briefing pack — each through the services the CLI calls — plus the file handling
around them (upload names, folders, downloads) and the warehouse's freshness.

The warehouse is reached through `WarehouseAccess` (the web's gate): loads take it
exclusively (`write()`: readers wait, one transaction, a failure leaves it as it was),
briefings read under `read()` so no load replaces the data half-way through.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from chainatlas.atlas.model import Chain
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.ingest.readers import SUPPORTED_SUFFIXES
from chainatlas.services.data import default_error_path, validate_file
from chainatlas.services.load import load_enterprises, load_links, reclassify_all
from chainatlas.settings import Settings

Progress = Callable[[float, str], None]

UPLOAD_KINDS = ("enterprises", "links")
# the largest upload accepted (a national enterprise extract is ~1 GB as CSV)
MAX_UPLOAD_BYTES = 2 * 1024**3
_COPY_BLOCK = 1024 * 1024
_NAME_MAX_CHARS = 120
# characters kept in an uploaded file's name: letters (CJK included), digits, . _ - ( )
_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\-()（）]+")
# share of an upload job's progress bar spent validating (reading the file)
_VALIDATE_SHARE = 0.25


class WarehouseAccess(Protocol):
    def read(self) -> AbstractContextManager[Warehouse]: ...

    def write(self) -> AbstractContextManager[Warehouse]: ...


def _noop(fraction: float, stage: str) -> None:
    return None


def _scaled(progress: Progress, start: float, end: float) -> Progress:
    def report(fraction: float, stage: str) -> None:
        progress(start + (end - start) * fraction, stage)

    return report


# --- uploads -----------------------------------------------------------------------------
def safe_file_name(client_name: str) -> str:
    """The client's file name reduced to a plain name: no folders, no dots in front, only
    letters, digits and . _ - ( ); long names keep their suffix."""
    base = PurePosixPath(client_name.replace("\\", "/")).name
    base = unicodedata.normalize("NFKC", base)
    base = _UNSAFE_NAME_CHARS.sub("_", base).lstrip("._")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = suffix.lower()
    stem = stem[: _NAME_MAX_CHARS - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def check_upload(client_name: str, kind: str, size: int | None) -> str:
    """The safe name of an acceptable upload; a UserError naming the field and why."""
    if kind not in UPLOAD_KINDS:
        raise UserError(
            f"数据类型 kind 无效：{kind!r}，应为 enterprises（企业）或 links（供应关系）",
            f"field kind is invalid: {kind!r}; use enterprises or links",
        )
    name = safe_file_name(client_name or "")
    suffix = PurePosixPath(name).suffix.lower()
    allowed = "、".join(SUPPORTED_SUFFIXES)
    if suffix not in SUPPORTED_SUFFIXES:
        raise UserError(
            f"文件 file 的类型 {suffix or '（无扩展名）'} 不支持，可用：{allowed}",
            f"field file: type {suffix or '(none)'} is not supported; use one of "
            + ", ".join(SUPPORTED_SUFFIXES),
        )
    if size is not None and size <= 0:
        raise UserError("文件 file 为空（0 字节）", "field file is empty (0 bytes)")
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise _too_large()
    return name


def _too_large() -> UserError:
    gb = MAX_UPLOAD_BYTES / 1024**3
    return UserError(
        f"文件 file 过大：上限 {gb:g} GB，请拆分后分批上传",
        f"field file is too large: the limit is {gb:g} GB; split it and upload the parts",
    )


def upload_dir(home: Path, job_id: int) -> Path:
    return home / "uploads" / str(job_id)


def save_upload(home: Path, job_id: int, name: str, stream: IO[bytes]) -> Path:
    """Copy the upload to HOME/uploads/<job id>/<name>, refusing it past MAX_UPLOAD_BYTES."""
    folder = upload_dir(home, job_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(name)
    written = 0
    with target.open("wb") as out:
        while block := stream.read(_COPY_BLOCK):
            written += len(block)
            if written > MAX_UPLOAD_BYTES:
                out.close()
                target.unlink()
                raise _too_large()
            out.write(block)
    if written == 0:
        target.unlink()
        raise UserError("文件 file 为空（0 字节）", "field file is empty (0 bytes)")
    return target


def upload_error_file(home: Path, job_id: int, name: str) -> Path | None:
    """The error report the validation wrote beside the upload, if any."""
    path = default_error_path(upload_dir(home, job_id) / safe_file_name(name))
    return path if path.is_file() else None


def load_upload(
    settings: Settings,
    atlas: Mapping[str, Chain],
    warehouse: WarehouseAccess,
    file: Path,
    kind: str,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """`chainatlas ingest enterprises|links` on an uploaded file: validate (rejected rows
    to the error report beside it), then load the accepted rows in one transaction."""
    report = progress or _noop
    start = time.perf_counter()
    accepted, summary = validate_file(file, kind, progress=_scaled(report, 0.0, _VALIDATE_SHARE))
    loading = _scaled(report, _VALIDATE_SHARE, 1.0)
    summary["loaded"] = 0
    if accepted.height:
        with warehouse.write() as wh:
            if kind == "enterprises":
                result = load_enterprises(wh, accepted, atlas, settings.classify, loading)
                summary["assignments"] = result.assignments
                summary["changed"], summary["unchanged"] = result.changed, result.unchanged
            else:
                result = load_links(wh, accepted, loading)
        summary["loaded"] = result.loaded
    summary["seconds"] = round(time.perf_counter() - start, 2)
    # the page shows names, never server paths
    summary["file"] = file.name
    summary["error_file"] = Path(summary["error_file"]).name if summary["error_file"] else None
    return summary


# --- reclassification --------------------------------------------------------------------
def reclassify(
    settings: Settings,
    atlas: Mapping[str, Chain],
    warehouse: WarehouseAccess,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """`chainatlas reclassify`: classify every enterprise again with the current atlas."""
    with warehouse.write() as wh:
        result = reclassify_all(wh, atlas, settings.classify, progress)
    return {
        "enterprises": result.loaded,
        "assignments": result.assignments,
        "seconds": round(result.seconds, 2),
    }


# --- briefings ---------------------------------------------------------------------------
def briefing_dir(home: Path, job_id: int) -> Path:
    return home / "briefings" / "web" / str(job_id)


def make_briefing(
    settings: Settings,
    atlas: Mapping[str, Chain],
    warehouse: WarehouseAccess,
    region_code: str,
    chain_id: str,
    out_dir: Path,
    *,
    maps: Sequence[str],
    lists: Sequence[str],
    lang: str = "zh",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """`chainatlas briefing` into `out_dir`; the result names the files written."""
    from chainatlas.services.briefing import build_briefing

    report = progress or _noop
    report(0.05, "briefing")
    # the shared read lock keeps loads out while build_briefing reads through its own
    # read-only connection (DuckDB shares one database instance between them)
    with warehouse.read():
        result = build_briefing(
            settings, atlas, region_code, chain_id, out_dir, maps=maps, lists=lists, lang=lang
        )
    return {
        "files": [path.name for path in result.files],
        "seconds": round(sum(result.timings.values()), 2),
    }


def produced_file(out_dir: Path, produced: Sequence[str], name: str) -> Path | None:
    """The file `name` if the job produced it and it is still there (never anything else)."""
    if name not in produced or name != PurePosixPath(name).name or name in ("", ".", ".."):
        return None
    path = out_dir / name
    if path.resolve().parent != out_dir.resolve() or not path.is_file():
        return None
    return path


def zip_files(out_dir: Path, produced: Sequence[str]) -> bytes:
    """One ZIP of every file the job produced that is still there."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in produced:
            path = produced_file(out_dir, produced, name)
            if path is not None:
                archive.write(path, arcname=name)
    return buffer.getvalue()


# --- freshness ---------------------------------------------------------------------------
FRESHNESS_TABLES = ("enterprises", "supply_links", "assignments")


@dataclass(frozen=True)
class Freshness:
    counts: dict[str, int]  # rows per table of FRESHNESS_TABLES
    modified: datetime | None  # last change of the warehouse file (UTC, naive)
    last_year: int | None  # latest year of any establishment / deregistration date
    last_date: date | None  # that date itself (the year may be partial)
    last_link_year: int | None  # latest year of a supply link


def warehouse_freshness(wh: Warehouse) -> Freshness:
    from chainatlas.engine.history import data_years

    counts = {name: wh.count(name) if wh.has_table(name) else 0 for name in FRESHNESS_TABLES}
    files = [wh.path, wh.path.with_name(wh.path.name + ".wal")]
    stamps = [p.stat().st_mtime for p in files if p.exists()]
    modified = datetime.fromtimestamp(max(stamps), UTC).replace(tzinfo=None) if stamps else None
    years = data_years(wh) if counts["enterprises"] else None
    link_year = None
    if counts["supply_links"]:
        row = wh.raw.execute("SELECT max(year) FROM supply_links").fetchone()
        link_year = int(row[0]) if row and row[0] is not None else None
    return Freshness(
        counts=counts,
        modified=modified,
        last_year=years.last if years else None,
        last_date=years.last_date if years else None,
        last_link_year=link_year,
    )
