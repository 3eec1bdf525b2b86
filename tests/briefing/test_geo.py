"""Shipped boundaries: ECharts decoding, point-in-polygon against the regions table, and the
Albers projection (equal area, checked against the closed form)."""

from __future__ import annotations

import math
import re

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainatlas.briefing import geo
from chainatlas.reference.regions import load_regions


def encode_ring(points: list[tuple[int, int]], offset: tuple[int, int]) -> str:
    """The inverse of ECharts' decode (quantised integers in, characters out)."""
    out = []
    px, py = offset
    for x, y in points:
        for value, prev in ((x, px), (y, py)):
            d = value - prev
            zigzag = (d << 1) ^ (d >> 31)
            out.append(chr(zigzag + 64))
        px, py = x, y
    return "".join(out)


def region(code: str) -> dict[str, object]:
    return load_regions().filter(pl.col("region_code") == code).row(0, named=True)


# ---------------------------------------------------------------- decoding


def test_decode_hand_worked() -> None:
    # 'A' = 65 → 1 → zig-zag −1;  'B' = 66 → 2 → +1;  '@' = 64 → 0
    ring = geo.decode_ring("AB@@BA", [1024, 2048])
    expected = np.array([[1023, 2049], [1023, 2049], [1024, 2048]]) / 1024
    np.testing.assert_array_equal(ring, expected)
    np.testing.assert_array_equal(geo.decode_ring("AB", [0, 0], scale=1), [[-1.0, 1.0]])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-150_000, 150_000), st.integers(-150_000, 150_000)),
        min_size=1,
        max_size=40,
    ),
    st.tuples(st.integers(-200_000, 200_000), st.integers(-200_000, 200_000)),
)
def test_decode_inverts_encode(points: list[tuple[int, int]], offset: tuple[int, int]) -> None:
    # keep the deltas inside the range the format can carry below the surrogates
    deltas = np.diff(np.array([offset, *points]), axis=0)
    if np.abs(deltas).max() >= 20_000:
        return
    ring = geo.decode_ring(encode_ring(points, offset), list(offset))
    np.testing.assert_allclose(ring * 1024, np.array(points, dtype=float))


def test_decode_rejects_corrupt_rings() -> None:
    with pytest.raises(ValueError, match="odd length"):
        geo.decode_ring("ABC", [0, 0])
    with pytest.raises(ValueError, match="Basic Multilingual Plane"):
        geo.decode_ring("A\U0001f600", [0, 0])


def test_decode_geojson_matches_direct_decoding() -> None:
    raw = geo._read("province", "450000.json")
    assert raw["UTF8Encoding"] is True
    plain = geo.decode_geojson(raw)
    assert "UTF8Encoding" not in plain and raw["UTF8Encoding"] is True  # input untouched
    assert geo.decode_geojson(plain) is plain  # already plain: returned as is
    from_plain = geo.features_from_geojson(plain)
    direct = geo.load_province("450000")
    assert [f.code for f in from_plain] == [f.code for f in direct]
    for a, b in zip(from_plain, direct, strict=True):
        for pa, pb in zip(a.polygons, b.polygons, strict=True):
            for ra, rb in zip(pa, pb, strict=True):
                np.testing.assert_array_equal(ra, rb)


# ---------------------------------------------------------------- the shipped data


def test_every_province_has_a_boundary_file() -> None:
    china = geo.load_china()
    codes = {f.code for f in china}
    assert len(china) == 34 and None not in codes
    assert geo.province_file_codes() == codes
    for code in sorted(codes):
        features = geo.load_province(code)
        assert features, code
        assert all(f.code is None or f.code[:2] == code[:2] for f in features), code
    with pytest.raises(KeyError):
        geo.load_province("990000")


def test_wuzhou_is_inside_guangxi_and_its_own_boundary() -> None:
    wz = region("450400")
    lon, lat = float(wz["lon"]), float(wz["lat"])  # type: ignore[arg-type]
    guangxi = next(f for f in geo.load_china() if f.code == "450000")
    assert geo.contains(guangxi, lon, lat)
    assert not geo.contains(guangxi, 113.26, 23.13)  # 广州
    wuzhou = next(f for f in geo.load_province("450000") if f.code == "450400")
    assert geo.contains(wuzhou, lon, lat)
    nanning = next(f for f in geo.load_province("450000") if f.code == "450100")
    assert not geo.contains(nanning, lon, lat)
    assert geo.feature_at(geo.load_province("450000"), lon, lat) is wuzhou


def test_province_label_points_fall_inside_their_province() -> None:
    for f in geo.load_china():
        assert f.centre is not None
        assert geo.contains(f, *f.centre), f.name


def test_counties_of_the_regions_table_fall_inside_their_province() -> None:
    provinces = {f.code: f for f in geo.load_china()}
    counties = load_regions().filter(
        (pl.col("level") == "county") & ~pl.col("coord_inherited") & pl.col("lon").is_not_null()
    )
    outside = [
        code
        for code, prov, lon, lat in counties.select(
            "region_code", "province_code", "lon", "lat"
        ).iter_rows()
        if not geo.contains(provinces[prov], lon, lat)
    ]
    # simplified coastlines may cut off an island district or two (思明区 on 厦门岛)
    assert len(outside) <= counties.height * 0.005, outside


def test_ring_with_hole() -> None:
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    hole = np.array([[4, 4], [6, 4], [6, 6], [4, 6]], dtype=float)
    f = geo.Feature("000001", "x", None, ((square, hole),))
    assert geo.contains(f, 2, 2)
    assert not geo.contains(f, 5, 5)
    assert not geo.contains(f, 11, 5)
    inside = geo.points_in_ring(square, np.array([1, 5, 12]), np.array([1, 5, 1]))
    assert inside.tolist() == [True, True, False]


# ---------------------------------------------------------------- projection


def test_albers_central_meridian_and_symmetry() -> None:
    proj = geo.Albers()
    x, y = proj(np.array([105.0, 95.0, 115.0]), np.array([35.0, 35.0, 35.0]))
    assert x[0] == pytest.approx(0.0, abs=1e-12)
    assert x[1] == pytest.approx(-x[2])
    assert y[1] == pytest.approx(y[2])
    # northwards is up
    _, y2 = proj(np.array([105.0]), np.array([45.0]))
    assert y2[0] > y[0]


def shoelace(x: np.ndarray, y: np.ndarray) -> float:
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


@settings(max_examples=40, deadline=None)
@given(
    st.floats(75, 130),
    st.floats(0.5, 8),
    st.floats(15, 50),
    st.floats(0.5, 5),
)
def test_albers_is_equal_area(lon: float, dlon: float, lat: float, dlat: float) -> None:
    """A lon × lat cell maps to an annular sector of area Δλ·(sin φ2 − sin φ1) on the unit
    sphere, wherever it lies."""
    proj = geo.Albers()
    k = 400
    lons = np.concatenate([np.linspace(lon, lon + dlon, k), np.linspace(lon + dlon, lon, k)])
    lats = np.concatenate([np.full(k, lat), np.full(k, lat + dlat)])
    x, y = proj(lons, lats)
    expected = math.radians(dlon) * (
        math.sin(math.radians(lat + dlat)) - math.sin(math.radians(lat))
    )
    assert shoelace(x, y) == pytest.approx(expected, rel=2e-4)


def test_fit_fills_the_box_and_stays_inside() -> None:
    china = geo.load_china()
    screen = geo.fit(china, 10, 20, 600, 400)
    pts = np.concatenate([r for f in china for p in f.polygons for r in p])
    xs, ys = screen.xy(pts[:, 0], pts[:, 1])
    assert xs.min() >= 10 - 1e-6 and xs.max() <= 610 + 1e-6
    assert ys.min() >= 20 - 1e-6 and ys.max() <= 420 + 1e-6
    filled_x = xs.max() - xs.min() == pytest.approx(600)
    filled_y = ys.max() - ys.min() == pytest.approx(400)
    assert filled_x or filled_y
    # north is up on screen: 哈尔滨 above 广州
    assert screen.point(126.6, 45.8)[1] < screen.point(113.3, 23.1)[1]
    with pytest.raises(ValueError):
        geo.fit([], 0, 0, 10, 10)


def test_path_data_closes_rings_and_drops_fine_detail() -> None:
    guangxi = next(f for f in geo.load_china() if f.code == "450000")
    screen = geo.fit([guangxi], 0, 0, 500, 400)
    d = geo.path_data(guangxi, screen)
    rings = re.findall(r"M[^MZ]+Z", d)
    assert rings and "".join(rings) == d
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    assert min(numbers) >= -0.05 and max(numbers) <= 500.05
    coarse = geo.path_data(guangxi, screen, min_step=8)
    assert coarse.count("L") < d.count("L") * 0.75


def test_nanhai_inset_is_scaled_into_its_box() -> None:
    d = geo.nanhai_inset_path(100, 50, 93.1)
    xs = [float(v) for v in re.findall(r"[ML](-?[\d.]+),", d)]
    ys = [float(v) for v in re.findall(r",(-?[\d.]+)", d)]
    assert d.count("M") == len(geo.NANHAI_INSET)
    assert min(xs) == 100 and max(xs) == 164
    assert min(ys) == 50 and max(ys) == pytest.approx(143.1)
