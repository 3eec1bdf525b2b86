"""Region × chain diagnosis (J2)."""

from chainatlas.diagnose.model import SCHEMA_ID, Diagnosis
from chainatlas.diagnose.pipeline import STEPS, UnknownRegionError, diagnose

__all__ = ["SCHEMA_ID", "STEPS", "Diagnosis", "UnknownRegionError", "diagnose"]
