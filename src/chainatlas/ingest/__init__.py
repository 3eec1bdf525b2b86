"""Ingest: read files, map headers, validate and normalise into the table contracts.

    table = read_table("企业名单.xlsx", kind="enterprises")
    result = validate_enterprises(table, region_codes)
    write_error_file(result.rejected, "errors.csv", result.warnings)

Loading `result.accepted` into the warehouse is the engine's job.
See docs/ingest.md for accepted headers, value forms and units.
"""

from chainatlas.ingest.aliases import (
    ENTERPRISE_ALIASES,
    SUPPLY_LINK_ALIASES,
    ColumnMap,
    canonical_frame,
    resolve_columns,
)
from chainatlas.ingest.enterprises import ENTERPRISES_SCHEMA, validate_enterprises
from chainatlas.ingest.errors import IngestError, ValidationResult, summary, write_error_file
from chainatlas.ingest.links import SUPPLY_LINKS_SCHEMA, validate_links

# `normalize` (the scalar function) is not re-exported: it would hide the module's name.
from chainatlas.ingest.normalize import normalize_frame, normalize_text
from chainatlas.ingest.readers import read_table
from chainatlas.ingest.validators import (
    is_valid_uscc,
    is_valid_uscc_series,
    make_uscc,
    make_uscc_series,
    uscc_check_digit,
)

__all__ = [
    "ENTERPRISES_SCHEMA",
    "ENTERPRISE_ALIASES",
    "SUPPLY_LINKS_SCHEMA",
    "SUPPLY_LINK_ALIASES",
    "ColumnMap",
    "IngestError",
    "ValidationResult",
    "canonical_frame",
    "is_valid_uscc",
    "is_valid_uscc_series",
    "make_uscc",
    "make_uscc_series",
    "normalize_frame",
    "normalize_text",
    "read_table",
    "resolve_columns",
    "summary",
    "uscc_check_digit",
    "validate_enterprises",
    "validate_links",
    "write_error_file",
]
