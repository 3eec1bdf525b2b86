"""Targeted investment attraction (J3): candidates, scoring, reasons.

Kept light on purpose — `chainatlas.settings` imports `targets.weights` — so the search
itself is imported from its module: `from chainatlas.targets.pipeline import find_targets`.
"""

from chainatlas.targets.weights import COMPONENTS, EASTERN_PROVINCES, TargetScales, TargetWeights

__all__ = ["COMPONENTS", "EASTERN_PROVINCES", "TargetScales", "TargetWeights"]
