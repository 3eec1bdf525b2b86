"""The Spark session the batch pipeline runs in.

`local[2]` by default (the 2-core machine this project is built on, and CI); on a cluster
pass its master URL (`spark://host:7077`, `yarn`, `k8s://…`); executors are sized as usual
(`$SPARK_CONF_DIR/spark-defaults.conf`, or `config`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

LOCAL_MASTER = "local[2]"

# every session: Arrow for every Python ↔ JVM transfer, no progress bars or _SUCCESS
# markers, Spark's (unused) warehouse folder out of the working directory
COMMON_CONFIG: dict[str, str] = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "chainatlas-spark-warehouse"),
}
# local sessions only (a cluster's own spark-defaults.conf decides there): few shuffle
# partitions (the default 200 makes hundreds of tiny tasks on a small machine), a modest
# driver, no web UI
LOCAL_CONFIG: dict[str, str] = {
    # a local session talks to itself on loopback only (else Spark picks the host's
    # network address when the hostname resolves to 127.0.0.1)
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "2g",
}


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "chainatlas",
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A Spark session for the pipeline (an existing one in this process is reused, with
    the settings it has).

    In local mode the Python workers run this interpreter, so they import the same
    chainatlas and the same classifier as the driver.
    """
    master = master or LOCAL_MASTER
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = dict(COMMON_CONFIG)
    if master.startswith("local"):
        settings.update(LOCAL_CONFIG)
        # pyspark starts its workers with $PYSPARK_PYTHON, else whatever `python3` is on PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # read by the JVM at start
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def build_session(master: str | None = None) -> Iterator[SparkSession]:
    """The session a build runs in: the active one when there is one (a test's, a
    notebook's; `master` is then ignored), else a new one, stopped when the build ends."""
    active = SparkSession.getActiveSession()
    session = active or spark_session(master)
    try:
        yield session
    finally:
        if active is None:
            session.stop()
