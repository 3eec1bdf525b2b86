"""Unified social credit codes (统一社会信用代码, GB 32100-2015), built vectorised.

Layout: '9' (registered by market regulation), '1' (enterprise), 6-digit region code,
9-char organisation code (8 body chars + GB 11714 check char), USCC check char.
Uniqueness comes from the body: an affine bijection of the firm's global row number,
written in digits (firms before 2016) or as 'MA' + 6 chars (the post-2016 form).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 over the 8 body chars

_ALPHABET_BYTES = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_VALUE = np.full(256, -1, dtype=np.int64)  # ASCII → value in the USCC alphabet
_USCC_VALUE[_ALPHABET_BYTES] = np.arange(len(USCC_ALPHABET))
_ORG_VALUE = np.full(256, -1, dtype=np.int64)  # ASCII → GB 11714 value (0-9, A=10 … Z=35)
_ORG_VALUE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_ORG_VALUE[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)] = np.arange(10, 36)

_ORG_VALUE_OF_INDEX = _ORG_VALUE[_ALPHABET_BYTES]  # alphabet index → GB 11714 value
_M, _A, _X = (USCC_ALPHABET.index(c) for c in "MAX")
_PREFIX_SUM = 9 * USCC_WEIGHTS[0] + 1 * USCC_WEIGHTS[1]  # '9', '1'

DIGIT_SPACE = 10**8  # body of 8 digits
MODERN_SPACE = len(USCC_ALPHABET) ** 6  # 'MA' + 6 chars


def uscc_check_char(first17: str) -> str:
    """Check char of a USCC from its first 17 chars (scalar reference implementation)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Length, alphabet and check char (scalar; the vectorised builder is checked against it)."""
    return (
        len(code) == 18
        and all(c in USCC_ALPHABET for c in code)
        and uscc_check_char(code[:17]) == code[17]
    )


def _permute(serial: np.ndarray, space: int, seed: int) -> np.ndarray:
    # int64 products overflow past 2**63 when space ~1e9; split the multiplier in 2 halves.
    rng = np.random.default_rng([seed, 0x05CC, space % 1000])
    multiplier = int(rng.integers(space // 3, space - 1)) | 1
    while np.gcd(multiplier, space) != 1:
        multiplier += 2
    offset = int(rng.integers(0, space))
    s = serial.astype(np.int64) % space
    high, low = divmod(multiplier, 1 << 16)
    out = (s * high) % space
    out = (out * (1 << 16)) % space
    out = (out + s * low + offset) % space
    return out


def build_usccs(
    region_digits: np.ndarray, serial: np.ndarray, modern: np.ndarray, seed: int
) -> pa.Array:
    """USCCs as an Arrow string array (see `uscc_chars`)."""
    return fixed_width_strings(uscc_chars(region_digits, serial, modern, seed))


def uscc_chars(
    region_digits: np.ndarray, serial: np.ndarray, modern: np.ndarray, seed: int
) -> np.ndarray:
    """USCCs as an (m, 18) uint8 ASCII matrix.

    region_digits: (m, 6) uint8 ASCII of the region codes; serial: (m,) distinct global row
    numbers (< 10**8); modern: (m,) bool, True for the 'MA' form. Check sums run on the
    alphabet indices (m × 8 integers), not on the characters.
    """
    m = serial.shape[0]
    if m and int(serial.max()) >= DIGIT_SPACE:
        raise ValueError("at most 10**8 enterprises get distinct codes")
    body = np.empty((m, 9), dtype=np.int64)  # alphabet indices; column 8 = org check char
    digits = _permute(serial, DIGIT_SPACE, seed)
    for pos in range(7, -1, -1):
        body[:, pos] = digits % 10
        digits //= 10
    modern_rows = np.flatnonzero(modern)
    if modern_rows.size:
        rest = _permute(serial[modern_rows], MODERN_SPACE, seed)
        tail = np.empty((modern_rows.size, 8), dtype=np.int64)
        tail[:, 0], tail[:, 1] = _M, _A
        for pos in range(7, 1, -1):
            tail[:, pos] = rest % 31
            rest //= 31
        body[modern_rows, :8] = tail
    org_check = 11 - (_ORG_VALUE_OF_INDEX[body[:, :8]] @ np.asarray(ORG_WEIGHTS)) % 11
    body[:, 8] = np.where(org_check == 10, _X, org_check % 11 % 10)  # 11 → '0'
    region_sum = (region_digits.astype(np.int64) - ord("0")) @ np.asarray(USCC_WEIGHTS[2:8])
    total = _PREFIX_SUM + region_sum + body @ np.asarray(USCC_WEIGHTS[8:17])
    chars = np.empty((m, 18), dtype=np.uint8)
    chars[:, 0], chars[:, 1] = ord("9"), ord("1")
    chars[:, 2:8] = region_digits
    chars[:, 8:17] = _ALPHABET_BYTES[body]
    chars[:, 17] = _ALPHABET_BYTES[(31 - total % 31) % 31]
    return chars


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """(m, w) uint8 ASCII → Arrow large_string array without a Python loop."""
    m, width = chars.shape
    offsets = np.arange(0, (m + 1) * width, width, dtype=np.int64)
    data = np.ascontiguousarray(chars).tobytes()
    return pa.LargeStringArray.from_buffers(m, pa.py_buffer(offsets), pa.py_buffer(data))


def ascii_matrix(codes: list[str], width: int) -> np.ndarray:
    """Fixed-width ASCII strings → (n, width) uint8 matrix."""
    raw = "".join(codes).encode("ascii")
    if len(raw) != len(codes) * width:
        raise ValueError(f"every code must be {width} ASCII chars")
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(codes), width)
