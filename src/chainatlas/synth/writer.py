"""Parquet output: one row group per chunk, encoded on a background thread.

Arrow encodes and compresses without the GIL, so writing chunk k overlaps drawing chunk
k+1. One worker and a bounded queue keep the order (hence the bytes) and the memory fixed.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

from chainatlas.synth.schema import in_memory

QUEUE_CHUNKS = 1  # one chunk waiting while one is written: enough to overlap


class ChunkWriter:
    """Writes tables to a hidden partial file beside `path`; `commit` renames it into place
    (the caller commits every file at the end, so no run leaves a mix of old and new)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.rows = 0
        self.schema = in_memory(schema)  # see chainatlas.synth.schema
        self._writer = pq.ParquetWriter(
            self.partial, self.schema, compression="zstd", store_schema=False
        )
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"write-{path.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (table := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def write(self, table: pa.Table) -> None:
        if self._error is not None:
            raise self._error
        self.rows += table.num_rows
        self._queue.put(table if table.schema == self.schema else table.cast(self.schema))

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._queue.put(None)
        self._thread.join()
        self._writer.close()
        if kind is None and self._error is not None:
            self.partial.unlink(missing_ok=True)
            raise self._error
        if kind is not None:
            self.partial.unlink(missing_ok=True)

    def commit(self) -> None:
        os.replace(self.partial, self.path)
