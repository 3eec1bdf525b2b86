"""The batch pipeline on Spark (DESIGN §7, J8): the engine's Ibis expressions compiled for
Spark, the classifier applied per partition through Arrow. Needs the `spark` extra
(pyspark); `chainatlas build --engine spark` runs it (services/build.py, docs/scaling.md).

- `session.spark_session` / `session.build_session`: the Spark session;
- `classify.classify_enterprises`: assignments of a DataFrame of firms (`mapInArrow`);
- `pipeline.run_pipeline`: every stage, Parquet in, Parquet out.
"""
