"""USCCs built vectorised: valid check chars, unique, region in positions 3–8."""

from __future__ import annotations

import numpy as np
import pytest

from chainatlas.synth.uscc import (
    USCC_ALPHABET,
    ascii_matrix,
    build_usccs,
    is_valid_uscc,
    uscc_check_char,
)

try:  # the ingest validator, written independently, is the better reference
    from chainatlas.ingest.validators import is_valid_uscc as reference_is_valid
except ImportError:  # pragma: no cover - before ingest exists
    reference_is_valid = is_valid_uscc


def _codes(n: int, seed: int = 3) -> list[str]:
    rng = np.random.default_rng(seed)
    regions = ascii_matrix(["450403", "110101", "659010"], 6)[rng.integers(0, 3, n)]
    return build_usccs(regions, np.arange(n), rng.random(n) < 0.5, seed).to_pylist()


def test_known_code_check_char() -> None:
    # A published example code (GB 32100-2015 annex style) validates with our weights.
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert is_valid_uscc("91350100M000100Y43")


def test_vectorised_codes_pass_the_scalar_check_and_the_ingest_validator() -> None:
    codes = _codes(20_000)
    assert all(is_valid_uscc(c) for c in codes)
    assert all(reference_is_valid(c) for c in codes[:5_000])
    assert all(c.startswith("91") and len(c) == 18 for c in codes)
    assert {c[2:8] for c in codes} == {"450403", "110101", "659010"}


def test_codes_are_unique_in_both_forms() -> None:
    codes = _codes(200_000)
    assert len(set(codes)) == len(codes)
    modern = [c for c in codes if c[8:10] == "MA"]
    assert 0.4 < len(modern) / len(codes) < 0.6
    assert all(ch in USCC_ALPHABET for c in codes[:1000] for ch in c)


@pytest.mark.parametrize("position", [0, 5, 12, 17])
def test_a_changed_char_is_caught(position: int) -> None:
    code = _codes(1)[0]
    other = next(c for c in USCC_ALPHABET if c != code[position])
    assert not is_valid_uscc(code[:position] + other + code[position + 1 :])
