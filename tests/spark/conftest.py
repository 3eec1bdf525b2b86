"""One local Spark session for the whole test session, and seeded pipeline input.

Starting Spark takes ~30 s on the 2-core machine, so every Spark test shares this session
(local[2], no UI, 4 shuffle partitions, Arrow on, 2 GB driver: the local defaults of
`chainatlas.spark.session`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from pyspark.sql import SparkSession

from chainatlas.atlas import Chain, load_atlas
from chainatlas.spark.session import LOCAL_MASTER, spark_session
from chainatlas.synth import generate

SEED = 2025
FIRMS = 4_000
UNKNOWN_SUPPLIER = "91000000MA00000001"
UNKNOWN_CUSTOMER = "91000000MA00000002"


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = spark_session(LOCAL_MASTER)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def build_atlas() -> dict[str, Chain]:
    """The shipped atlas, loaded once: both engines of a comparison get the same object."""
    return load_atlas([])


def with_edge_cases(firms: pl.DataFrame, links: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The synthetic data plus what it lacks and every engine must treat alike: firms with
    no capital (ranked as 0, ties broken by uscc) and equal capitals, self-links, links to
    unknown firms, repeated links (another year) without an amount."""
    firms = firms.with_columns(
        registered_capital=pl.when(pl.int_range(pl.len()) % 23 == 0)
        .then(None)
        .when(pl.int_range(pl.len()) % 29 == 0)
        .then(500.0)
        .otherwise(pl.col("registered_capital"))
    )
    sample = links.head(40)
    extra = [
        sample.head(10).with_columns(customer_uscc=pl.col("supplier_uscc")),
        sample.slice(10, 10).with_columns(supplier_uscc=pl.lit(UNKNOWN_SUPPLIER)),
        sample.slice(20, 10).with_columns(customer_uscc=pl.lit(UNKNOWN_CUSTOMER)),
        links.head(200).with_columns(amount=pl.lit(None, pl.Float64), year=pl.col("year") - 10),
    ]
    return firms, pl.concat([links, *extra])


@pytest.fixture(scope="session")
def seeded_input(tmp_path_factory: pytest.TempPathFactory, build_atlas: dict[str, Chain]) -> Path:
    """A few thousand seeded synthetic firms and their links, as the pipeline's Parquet."""
    raw = tmp_path_factory.mktemp("synth")
    generate(FIRMS, SEED, raw, atlas=build_atlas, chunk_size=1_000)
    firms, links = with_edge_cases(
        pl.read_parquet(raw / "enterprises.parquet"), pl.read_parquet(raw / "supply_links.parquet")
    )
    out = tmp_path_factory.mktemp("input")
    firms.write_parquet(out / "enterprises.parquet")
    # the links as a directory of parts, as Spark and other tools write them
    (out / "supply_links").mkdir()
    half = links.height // 2
    links.head(half).write_parquet(out / "supply_links" / "part-0.parquet")
    links.slice(half).write_parquet(out / "supply_links" / "part-1.parquet")
    return out
