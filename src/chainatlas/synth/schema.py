"""Arrow schemas of the files the generator writes (docs/contracts-tables.md).

Tables are built with `large_string` columns (what polars hands out, so nothing is cast);
files are written without the Arrow schema, so every reader sees the Parquet logical
type: the contract's plain `string`.
"""

from __future__ import annotations

import pyarrow as pa

ENTERPRISES = pa.schema(
    [
        pa.field("uscc", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("region_code", pa.string(), nullable=False),
        pa.field("industry_code", pa.string()),
        pa.field("established", pa.date32()),
        pa.field("deregistered", pa.date32()),
        pa.field("registered_capital", pa.float64()),
        pa.field("revenue", pa.float64()),
        pa.field("employees", pa.int64()),
        pa.field("business_scope", pa.string()),
        pa.field("products", pa.string()),
        pa.field("tags", pa.string()),
        pa.field("synthetic", pa.bool_(), nullable=False),
    ]
)

SUPPLY_LINKS = pa.schema(
    [
        pa.field("supplier_uscc", pa.string(), nullable=False),
        pa.field("customer_uscc", pa.string(), nullable=False),
        pa.field("amount", pa.float64()),
        pa.field("year", pa.int64()),
        pa.field("product", pa.string()),
    ]
)

# Ground truth for evaluating the classifier; not a warehouse table.
LABELS = pa.schema(
    [
        pa.field("uscc", pa.string(), nullable=False),
        pa.field("chain_id", pa.string(), nullable=False),
        pa.field("node_id", pa.string(), nullable=False),
    ]
)


def in_memory(schema: pa.Schema) -> pa.Schema:
    """The schema of the tables as built: strings as large_string."""
    return pa.schema(
        [f.with_type(pa.large_string()) if f.type == pa.string() else f for f in schema]
    )


ENTERPRISES_BUILT = in_memory(ENTERPRISES)
SUPPLY_LINKS_BUILT = in_memory(SUPPLY_LINKS)
LABELS_BUILT = in_memory(LABELS)
