"""Reference data shipped with the package or its dependencies: regions, industry codes."""

from chainatlas.reference.industry import industry_code_names
from chainatlas.reference.regions import load_regions, region_name

__all__ = ["industry_code_names", "load_regions", "region_name"]
