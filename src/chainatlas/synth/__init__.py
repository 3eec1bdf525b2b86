"""Seeded synthetic data: a national enterprise population on the atlas, its supply links,
and ground-truth labels, written as parquet in bounded memory (see `generate`)."""

from chainatlas.synth.generate import SynthSummary, generate
from chainatlas.synth.profile import DEMO_PROFILE

__all__ = ["DEMO_PROFILE", "SynthSummary", "generate"]
