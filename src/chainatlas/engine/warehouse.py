"""DuckDB warehouse behind Ibis.

Reads and aggregations are Ibis expressions (so a Spark backend runs the same ones).
Writes go through DuckDB directly: with ibis 12 and duckdb 2.0 `create_table` fails with a
parser error (DROP VIEW IF EXISTS …), so a table is written with SQL over a registered Arrow
frame, and an Ibis expression is materialised with `CREATE TABLE … AS <compiled SQL>`.
All writes of one load happen inside one transaction: a failed or killed load leaves the
file as it was (DuckDB rolls back an uncommitted transaction on the next open).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import polars as pl
import pyarrow as pa

from chainatlas.engine.tables import CONTRACTS, create_sql


class Warehouse:
    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ibis = ibis.duckdb.connect(str(self.path), read_only=read_only)
        self.raw: duckdb.DuckDBPyConnection = self.ibis.con
        # a read-only warehouse's tables keep their schemas, so each is looked up once: the
        # lookup costs ≈ 5 ms and one diagnosis with its targets asks ≈ 25 times
        self._tables: dict[str, ibis.Table] | None = {} if read_only else None
        if not read_only:
            for name in CONTRACTS:
                self.raw.execute(create_sql(name))

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection, path: Path | str) -> Warehouse:
        """A Warehouse over an open connection (a cursor of a shared read-only connection:
        one per web worker thread, sharing the database's buffer cache)."""
        wh = cls.__new__(cls)
        wh.path = Path(path)
        wh.ibis = ibis.duckdb.from_connection(con)
        wh.raw = con
        wh._tables = {}
        return wh

    @classmethod
    def over_parquet(cls, directory: Path, tables: Iterable[str]) -> Warehouse:
        """A read-only warehouse over tables written as Parquet (`directory/<table>/*.parquet`,
        what `chainatlas build` writes): an in-memory DuckDB with one view per table, read in
        place, and the shipped regions."""
        from chainatlas.reference.regions import load_regions

        wh = cls.__new__(cls)
        wh._tables = None
        wh.path = Path(directory)
        wh.ibis = ibis.duckdb.connect()
        wh.raw = wh.ibis.con
        for table in tables:
            wh.raw.execute(
                f"CREATE VIEW {table} AS SELECT * FROM {parquet_source(wh.path / table)}"
            )
        wh.raw.execute(create_sql("regions"))
        wh.append("regions", load_regions())
        wh._tables = {}
        return wh

    def close(self) -> None:
        self.ibis.disconnect()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        if self._tables is None:
            return self.ibis.table(name)
        if name not in self._tables:
            self._tables[name] = self.ibis.table(name)
        return self._tables[name]

    def has_table(self, name: str) -> bool:
        # the catalogue directly: ibis' list_tables trips a DuckDB deprecation warning
        row = self.raw.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]
        ).fetchone()
        return bool(row and row[0])

    def to_polars(self, expr: ibis.Expr) -> pl.DataFrame:
        return self.ibis.to_polars(expr)

    def sql(self, query: str, params: list[Any] | None = None) -> pl.DataFrame:
        return self.raw.execute(query, params or []).pl()

    def count(self, name: str) -> int:
        row = self.raw.execute(f"SELECT count(*) FROM {name}").fetchone()
        return int(row[0]) if row else 0

    # --- writing -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        self.raw.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    def _forget(self, name: str) -> None:
        if self._tables is not None:
            self._tables.pop(name, None)

    def _register(self, frame: pl.DataFrame | pa.Table, view: str) -> None:
        arrow = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
        self.raw.register(view, arrow)

    def replace_rows(self, name: str, frame: pl.DataFrame, key: str) -> None:
        """Upsert by `key`: rows whose key is in `frame` are replaced by the frame's rows."""
        columns = list(CONTRACTS[name])
        self._register(frame.select(columns), "_incoming")
        try:
            self.raw.execute(f"DELETE FROM {name} WHERE {key} IN (SELECT {key} FROM _incoming)")
            self.raw.execute(f"INSERT INTO {name} SELECT {', '.join(columns)} FROM _incoming")
        finally:
            self.raw.unregister("_incoming")

    def delete_where_in(self, name: str, key: str, values: pl.Series) -> None:
        self._register(pl.DataFrame({key: values}), "_keys")
        try:
            self.raw.execute(f"DELETE FROM {name} WHERE {key} IN (SELECT {key} FROM _keys)")
        finally:
            self.raw.unregister("_keys")

    def append(self, name: str, frame: pl.DataFrame) -> None:
        columns = list(CONTRACTS[name])
        self._register(frame.select(columns), "_incoming")
        try:
            self.raw.execute(f"INSERT INTO {name} SELECT {', '.join(columns)} FROM _incoming")
        finally:
            self.raw.unregister("_incoming")

    def replace_table(
        self, name: str, frame: pl.DataFrame | pa.Table, *, temporary: bool = False
    ) -> None:
        self._forget(name)
        self._register(frame, "_incoming")
        kind = "TEMP TABLE" if temporary else "TABLE"
        try:
            self.raw.execute(f"CREATE OR REPLACE {kind} {name} AS SELECT * FROM _incoming")
        finally:
            self.raw.unregister("_incoming")

    def materialize(self, name: str, expr: ibis.Table) -> None:
        """Write an Ibis expression's result as table `name` (replacing it)."""
        self._forget(name)
        self.raw.execute(f"CREATE OR REPLACE TABLE {name} AS {select_sql(expr)}")


def parquet_source(path: Path) -> str:
    """DuckDB's read_parquet() of a Parquet file or of a directory of parts."""
    pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    return "read_parquet('{}')".format(pattern.replace("'", "''"))


def select_sql(expr: ibis.Table) -> str:
    """The DuckDB SELECT of `expr` with integer columns as BIGINT: DuckDB sums integers (and
    booleans) into HUGEINT, a cast Ibis drops as it already types the sum as int64 — and a
    HUGEINT reaches polars as a 38-digit Decimal, whose divisions round to whole numbers."""
    columns = ", ".join(
        f'CAST("{c}" AS BIGINT) AS "{c}"' if t.is_integer() else f'"{c}"'
        for c, t in expr.schema().items()
    )
    return f"SELECT {columns} FROM ({ibis.to_sql(expr, dialect='duckdb')})"
