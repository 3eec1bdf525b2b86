"""Shared access to the DuckDB warehouse from many request threads.

One read-only connection is opened per process; every thread reads through its own cursor
of it (DuckDB connections are not thread-safe, cursors of one connection share the buffer
cache). A load takes the gate exclusively: readers drain, the read-only connection closes,
the load runs on a read-write connection in one transaction, and readers reopen after it.
`version` changes with every load, so caches keyed by it never serve stale figures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError


class _ReadWriteLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._writing = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class WarehouseGate:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = _ReadWriteLock()
        self._open_lock = threading.Lock()
        self._root: duckdb.DuckDBPyConnection | None = None
        self._local = threading.local()
        self._generation = 0
        # called (outside the lock) after every write: e.g. warm the pages' caches again
        self.on_change: Callable[[], object] | None = None

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @property
    def version(self) -> str:
        """Changes whenever the warehouse file is replaced or loaded into."""
        mtime = self.path.stat().st_mtime_ns if self.path.exists() else 0
        return f"{self._generation}:{mtime}"

    def _root_connection(self) -> duckdb.DuckDBPyConnection:
        with self._open_lock:
            if self._root is None:
                if not self.path.exists():
                    raise UserError(
                        f"仓库不存在：{self.path}；请先导入数据或运行 chainatlas demo",
                        f"no warehouse at {self.path}; load data or run `chainatlas demo`",
                    )
                self._root = duckdb.connect(str(self.path), read_only=True)
                self._generation += 1
            return self._root

    @contextmanager
    def read(self) -> Iterator[Warehouse]:
        with self._lock.shared():
            root = self._root_connection()
            local = self._local
            if getattr(local, "generation", None) != self._generation:
                local.warehouse = Warehouse.from_connection(root.cursor(), self.path)
                local.generation = self._generation
            yield local.warehouse

    def _close_root(self) -> None:
        with self._open_lock:
            if self._root is not None:
                self._root.close()
                self._root = None
                self._generation += 1

    @contextmanager
    def write(self) -> Iterator[Warehouse]:
        """Exclusive read-write access; readers wait and reopen afterwards."""
        with self._lock.exclusive():
            self._close_root()
            wh = Warehouse(self.path)
            try:
                yield wh
            finally:
                wh.close()
                self._generation += 1
        if self.on_change is not None:
            self.on_change()

    def close(self) -> None:
        with self._lock.exclusive():
            self._close_root()
