"""`chainatlas db backup|restore`: the whole app database as one portable archive.

A ZIP holding `manifest.json` (format, Alembic revision, time, row counts) and one JSON-lines
file per table, written in foreign-key order. The same archive restores into SQLite or
PostgreSQL (so it also moves a deployment from one to the other). A restore runs in one
transaction into a database migrated to the archive's revision: it refuses a database that
holds rows unless asked to replace them, and a failed restore changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Engine, MetaData, Table, delete, func, insert, select, text

from chainatlas.db.base import utcnow
from chainatlas.db.migrate import current_revision
from chainatlas.db.models import metadata
from chainatlas.db.session import make_engine
from chainatlas.errors import UserError

FORMAT = "chainatlas.backup/1"
BATCH = 1000


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _decoder(table: Table) -> dict[str, Any]:
    parsers: dict[str, Any] = {}
    for column in table.columns:
        if isinstance(column.type, DateTime):
            parsers[column.name] = dt.datetime.fromisoformat
        elif isinstance(column.type, Date):
            parsers[column.name] = dt.date.fromisoformat
    return parsers


def backup(url: str, archive: Path, tables: MetaData = metadata) -> dict[str, Any]:
    """Write every table of the app database to `archive`; return the manifest."""
    revision = current_revision(url)
    if revision is None:
        raise UserError(
            "应用数据库尚未建立（先运行 chainatlas db upgrade）",
            "the app database has no schema yet (run `chainatlas db upgrade`)",
        )
    engine = make_engine(url)
    counts: dict[str, int] = {}
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    try:
        with (
            engine.connect() as con,
            zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf,
        ):
            for table in tables.sorted_tables:
                with zf.open(f"{table.name}.jsonl", "w") as out:
                    n = 0
                    order = list(table.primary_key.columns) or list(table.columns)
                    for row in con.execute(select(table).order_by(*order)).mappings():
                        record = {k: _encode(v) for k, v in row.items()}
                        out.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
                        n += 1
                counts[table.name] = n
            manifest = {
                "format": FORMAT,
                "revision": revision,
                "created_at": utcnow().isoformat(),
                "tables": counts,
            }
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    return manifest


def _manifest(zf: zipfile.ZipFile, archive: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(zf.read("manifest.json"))
    except (KeyError, ValueError):
        raise UserError(
            f"{archive} 不是 chainatlas 备份（缺少 manifest.json）",
            f"{archive} is not a chainatlas backup (no manifest.json)",
        ) from None
    if manifest.get("format") != FORMAT:
        raise UserError(
            f"{archive} 的备份格式 {manifest.get('format')} 不受支持",
            f"{archive} has unsupported backup format {manifest.get('format')}",
        )
    return manifest


def _reset_sequences(engine: Engine, con: Any, tables: MetaData) -> None:
    """PostgreSQL: after explicit ids, move each serial sequence past the largest id."""
    if engine.dialect.name != "postgresql":
        return
    for table in tables.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
            continue
        sequence = con.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}
        ).scalar()
        if sequence:
            top = con.execute(select(func.max(pk[0]))).scalar()
            con.execute(
                text("SELECT setval(:s, :v, :called)"),
                {"s": sequence, "v": top or 1, "called": top is not None},
            )


def restore(
    url: str, archive: Path, *, replace: bool = False, tables: MetaData = metadata
) -> dict[str, Any]:
    """Load `archive` into the app database at `url` (migrated to the archive's revision)."""
    if not archive.exists():
        raise UserError(f"备份文件不存在：{archive}", f"no such backup: {archive}")
    with zipfile.ZipFile(archive) as zf:
        manifest = _manifest(zf, archive)
        revision = current_revision(url)
        if revision != manifest["revision"]:
            raise UserError(
                f"数据库版本 {revision} 与备份版本 {manifest['revision']} 不同；"
                "请先把数据库升级到相同版本",
                f"the database is at revision {revision}, the backup at "
                f"{manifest['revision']}; migrate the database to the same revision first",
            )
        engine = make_engine(url)
        try:
            with engine.begin() as con:
                held = {
                    t.name: con.execute(select(func.count()).select_from(t)).scalar() or 0
                    for t in tables.sorted_tables
                }
                if any(held.values()) and not replace:
                    busy = ", ".join(f"{k} {v}" for k, v in held.items() if v)
                    raise UserError(
                        f"数据库中已有数据（{busy}）；确认覆盖请加 --replace",
                        f"the database holds rows ({busy}); add --replace to overwrite them",
                    )
                for table in reversed(tables.sorted_tables):
                    con.execute(delete(table))
                for table in tables.sorted_tables:
                    name = f"{table.name}.jsonl"
                    if name not in zf.namelist():
                        continue
                    parse = _decoder(table)
                    batch: list[dict[str, Any]] = []
                    with zf.open(name) as lines:
                        for line in lines:
                            record = json.loads(line)
                            for key, fn in parse.items():
                                if record.get(key) is not None:
                                    record[key] = fn(record[key])
                            batch.append(record)
                            if len(batch) >= BATCH:
                                con.execute(insert(table), batch)
                                batch = []
                    if batch:
                        con.execute(insert(table), batch)
                _reset_sequences(engine, con, tables)
        finally:
            engine.dispose()
    return manifest
