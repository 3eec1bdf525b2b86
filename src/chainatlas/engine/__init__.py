"""The one warehouse layer (DESIGN §7): Ibis expressions over DuckDB by default."""

from chainatlas.engine.warehouse import Warehouse

__all__ = ["Warehouse"]
