"""Boundaries of China shipped with the package, their decoding, and the map projection.

Data: `data/geo/china.json` (provinces) and `data/geo/province/<code>.json` (the prefectures
of one province, the districts of a municipality) from the npm package `echarts@4.9.0`
(`map/json/`, Apache-2.0, see `data/geo/LICENSE-echarts.txt`). The files are in ECharts'
compressed encoding (`"UTF8Encoding": true`): each ring is a string of character pairs, and
a coordinate is `(charCode − 64)`, zig-zag decoded, delta-summed from the ring's
`encodeOffsets`, then divided by 1024 — `decode` in ECharts' `src/coord/geo/parseGeoJson.js`,
reimplemented here.

Projection: Albers equal-area conic, standard parallels 25°N and 47°N, central meridian 105°E
(the usual choice for maps of the whole of China; Snyder, *Map Projections — A Working
Manual*, 1987, §14, spherical form).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

ECHARTS_SCALE = 1024.0
ECHARTS_SOURCE = "Apache ECharts 4.9.0 (Apache-2.0)"

Ring = np.ndarray  # (n, 2) float64: lon, lat


@dataclass(frozen=True)
class Feature:
    """One administrative area: code (6 digits; None where the source has no id), name, the
    label point the source gives (`cp`), and its polygons (each: exterior ring, then holes)."""

    code: str | None
    name: str
    centre: tuple[float, float] | None
    polygons: tuple[tuple[Ring, ...], ...]

    def bounds(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max)."""
        pts = np.concatenate([ring for poly in self.polygons for ring in poly])
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )


# ---------------------------------------------------------------- decoding


def decode_ring(encoded: str, offset: Sequence[int], scale: float = ECHARTS_SCALE) -> Ring:
    """One ECharts-encoded ring → (n, 2) array of lon, lat.

    `x = charCode − 64; x = (x >> 1) ^ −(x & 1)` (zig-zag), then a running sum that starts at
    `offset`, then `/ scale`. ECharts reads UTF-16 code units; every character of the format
    is in the Basic Multilingual Plane, anything else is corrupt input.
    """
    if len(encoded) % 2:
        raise ValueError(f"encoded ring has an odd length ({len(encoded)})")
    codes = np.frombuffer(encoded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    if codes.size and codes.max() > 0xFFFF:
        raise ValueError("encoded ring holds a character outside the Basic Multilingual Plane")
    values = codes - 64
    values = (values >> 1) ^ -(values & 1)
    pairs = values.reshape(-1, 2)
    pairs[0] += np.asarray(offset[:2], dtype=np.int64)
    return np.cumsum(pairs, axis=0).astype(np.float64) / scale


def decode_geojson(data: dict[str, Any]) -> dict[str, Any]:
    """An ECharts map JSON → plain GeoJSON with float coordinates (the input is not changed).

    A file without `UTF8Encoding` is returned as it is."""
    if not data.get("UTF8Encoding"):
        return data
    scale = float(data.get("UTF8Scale") or ECHARTS_SCALE)
    features = []
    for feature in data["features"]:
        geometry = feature.get("geometry")
        if not geometry:
            features.append(feature)
            continue
        offsets = geometry["encodeOffsets"]
        coords: list[Any]
        if geometry["type"] == "Polygon":
            coords = [
                decode_ring(ring, offsets[i], scale).tolist()
                for i, ring in enumerate(geometry["coordinates"])
            ]
        elif geometry["type"] == "MultiPolygon":
            coords = [
                [decode_ring(ring, offsets[i][j], scale).tolist() for j, ring in enumerate(poly)]
                for i, poly in enumerate(geometry["coordinates"])
            ]
        else:
            raise ValueError(f"unsupported geometry type {geometry['type']!r}")
        features.append({**feature, "geometry": {"type": geometry["type"], "coordinates": coords}})
    out = {k: v for k, v in data.items() if k not in ("UTF8Encoding", "UTF8Scale")}
    out["features"] = features
    return out


def features_from_geojson(data: dict[str, Any]) -> tuple[Feature, ...]:
    """GeoJSON (plain, or ECharts-encoded: rings are decoded straight into arrays) →
    Features; features without geometry are left out."""
    encoded = bool(data.get("UTF8Encoding"))
    scale = float(data.get("UTF8Scale") or ECHARTS_SCALE)
    out: list[Feature] = []
    for f in data["features"]:
        geometry = f.get("geometry")
        if not geometry or not geometry.get("coordinates"):
            continue
        props = f.get("properties") or {}
        raw_id = f.get("id") or props.get("id")
        code = str(raw_id) if raw_id and str(raw_id).isdigit() and len(str(raw_id)) == 6 else None
        cp = props.get("cp")
        centre = (float(cp[0]), float(cp[1])) if cp else None
        single = geometry["type"] == "Polygon"
        if not single and geometry["type"] != "MultiPolygon":
            raise ValueError(f"unsupported geometry type {geometry['type']!r}")
        polys = [geometry["coordinates"]] if single else geometry["coordinates"]
        offsets = geometry.get("encodeOffsets")
        if encoded:
            poly_offsets = [offsets] if single else offsets
            polygons = tuple(
                tuple(
                    decode_ring(ring, poly_offsets[i][j], scale)
                    for j, ring in enumerate(poly)
                    if ring
                )
                for i, poly in enumerate(polys)
            )
        else:
            polygons = tuple(
                tuple(np.asarray(ring, dtype=np.float64).reshape(-1, 2) for ring in poly if ring)
                for poly in polys
            )
        out.append(Feature(code, str(props.get("name", "")), centre, polygons))
    return tuple(out)


def _read(*parts: str) -> dict[str, Any]:
    path = resources.files("chainatlas.briefing").joinpath("data", "geo", *parts)
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


@cache
def load_china() -> tuple[Feature, ...]:
    """The 34 provincial-level areas of China (incl. 台湾, 香港, 澳门)."""
    return features_from_geojson(_read("china.json"))


def province_file_codes() -> frozenset[str]:
    folder = resources.files("chainatlas.briefing").joinpath("data", "geo", "province")
    return frozenset(p.name.removesuffix(".json") for p in folder.iterdir() if p.name[0] != ".")


@cache
def load_province(province_code: str) -> tuple[Feature, ...]:
    """The prefecture-level areas of one province (districts for a municipality).

    Raises KeyError for a code without a shipped boundary file."""
    if province_code not in province_file_codes():
        raise KeyError(province_code)
    return features_from_geojson(_read("province", f"{province_code}.json"))


# ---------------------------------------------------------------- geometry


def points_in_ring(ring: Ring, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Even-odd ray casting for many points at once: a boolean array, True inside the ring."""
    x, y = ring[:, 0][:, None], ring[:, 1][:, None]
    x2, y2 = np.roll(ring[:, 0], -1)[:, None], np.roll(ring[:, 1], -1)[:, None]
    px = np.asarray(xs, dtype=np.float64)[None, :]
    py = np.asarray(ys, dtype=np.float64)[None, :]
    crosses = (y > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x + (py - y) * (x2 - x) / (y2 - y)
    inside: np.ndarray = np.count_nonzero(crosses & (px < at), axis=0) % 2 == 1
    return inside


def ring_contains(ring: Ring, lon: float, lat: float) -> bool:
    """Even-odd ray casting: is the point inside the closed ring?"""
    return bool(points_in_ring(ring, np.array([lon]), np.array([lat]))[0])


def contains(feature: Feature, lon: float, lat: float) -> bool:
    """Inside an exterior ring and outside its holes, in any of the feature's polygons."""
    for poly in feature.polygons:
        inside = bool(poly) and ring_contains(poly[0], lon, lat)
        if inside and not any(ring_contains(hole, lon, lat) for hole in poly[1:]):
            return True
    return False


def feature_at(features: Iterable[Feature], lon: float, lat: float) -> Feature | None:
    for f in features:
        lo0, la0, lo1, la1 = f.bounds()
        if lo0 <= lon <= lo1 and la0 <= lat <= la1 and contains(f, lon, lat):
            return f
    return None


# ---------------------------------------------------------------- projection


@dataclass(frozen=True)
class Albers:
    """Albers equal-area conic on the unit sphere (Snyder 1987, eq. 14-1 … 14-4):

    n = (sin φ1 + sin φ2) / 2,  C = cos² φ1 + 2n sin φ1,  ρ = √(C − 2n sin φ) / n,
    θ = n (λ − λ0),  x = ρ sin θ,  y = ρ0 − ρ cos θ.
    """

    lon0: float = 105.0
    lat1: float = 25.0
    lat2: float = 47.0
    lat0: float = 0.0

    @property
    def _n(self) -> float:
        return (math.sin(math.radians(self.lat1)) + math.sin(math.radians(self.lat2))) / 2

    @property
    def _c(self) -> float:
        return math.cos(math.radians(self.lat1)) ** 2 + 2 * self._n * math.sin(
            math.radians(self.lat1)
        )

    def _rho(self, lat: np.ndarray) -> np.ndarray:
        rho: np.ndarray = np.sqrt(self._c - 2 * self._n * np.sin(np.radians(lat))) / self._n
        return rho

    def __call__(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        theta = self._n * np.radians(lon - self.lon0)
        rho = self._rho(lat)
        rho0 = self._rho(np.asarray(self.lat0))
        return rho * np.sin(theta), rho0 - rho * np.cos(theta)


@dataclass(frozen=True)
class Screen:
    """Projected coordinates fitted into a pixel box: x right, y down."""

    projection: Albers
    scale: float
    x_min: float
    y_max: float
    left: float
    top: float

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.projection(lon, lat)
        return self.left + (x - self.x_min) * self.scale, self.top + (self.y_max - y) * self.scale

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.xy(np.asarray([lon]), np.asarray([lat]))
        return float(x[0]), float(y[0])


def fit(
    features: Sequence[Feature],
    left: float,
    top: float,
    width: float,
    height: float,
    projection: Albers | None = None,
) -> Screen:
    """The projection scaled and centred so that `features` fill the box (aspect kept)."""
    proj = projection or Albers()
    if not features:
        raise ValueError("nothing to fit")
    pts = np.concatenate([ring for f in features for poly in f.polygons for ring in poly])
    x, y = proj(pts[:, 0], pts[:, 1])
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    scale = min(width / max(x1 - x0, 1e-12), height / max(y1 - y0, 1e-12))
    # centre the drawing in the box
    pad_x = (width - (x1 - x0) * scale) / 2
    pad_y = (height - (y1 - y0) * scale) / 2
    return Screen(proj, scale, x0, y1, left + pad_x, top + pad_y)


def _num(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def path_data(feature: Feature, screen: Screen, min_step: float = 0.6) -> str:
    """SVG path data of a feature's rings. Points are snapped to a `min_step` px grid and
    repeats dropped (the source is finer than any print needs); rings that collapse to
    fewer than three points are left out."""
    parts: list[str] = []
    for poly in feature.polygons:
        for ring in poly:
            xs, ys = screen.xy(ring[:, 0], ring[:, 1])
            qx, qy = np.round(xs / min_step), np.round(ys / min_step)
            keep = np.ones(len(qx), dtype=bool)
            keep[1:] = (qx[1:] != qx[:-1]) | (qy[1:] != qy[:-1])
            if np.count_nonzero(keep) < 3:
                continue
            coords = [f"{_num(x)},{_num(y)}" for x, y in zip(xs[keep], ys[keep], strict=True)]
            parts.append("M" + "L".join(coords) + "Z")
    return "".join(parts)


# ECharts' 南海诸岛 inset (src/coord/geo/fix/nanhai.js, Apache-2.0), in its own units: a box
# 64 wide and 93.1 high, y downwards. The first shape is the coast along the top, the last
# the frame, the others the dashes of the boundary line.
NANHAI_INSET: tuple[tuple[tuple[float, float], ...], ...] = (
    (
        (0, 3.5),
        (7, 11.2),
        (15, 11.9),
        (30, 7),
        (42, 0.7),
        (52, 0.7),
        (56, 7.7),
        (59, 0.7),
        (64, 0.7),
        (64, 0),
        (5, 0),
        (0, 3.5),
    ),
    ((13, 16.1), (19, 14.7), (16, 21.7), (11, 23.1), (13, 16.1)),
    ((12, 32.2), (14, 38.5), (15, 38.5), (13, 32.2), (12, 32.2)),
    ((16, 47.6), (12, 53.2), (13, 53.2), (18, 47.6), (16, 47.6)),
    ((6, 64.4), (8, 70), (9, 70), (8, 64.4), (6, 64.4)),
    ((23, 82.6), (29, 79.8), (30, 79.8), (25, 82.6), (23, 82.6)),
    ((37, 70.7), (43, 62.3), (44, 62.3), (39, 70.7), (37, 70.7)),
    ((48, 51.1), (51, 45.5), (53, 45.5), (50, 51.1), (48, 51.1)),
    ((51, 35), (51, 28.7), (53, 28.7), (53, 35), (51, 35)),
    ((52, 22.4), (55, 17.5), (56, 17.5), (53, 22.4), (52, 22.4)),
    ((58, 12.6), (62, 7), (63, 7), (60, 12.6), (58, 12.6)),
    (
        (0, 3.5),
        (0, 93.1),
        (64, 93.1),
        (64, 0),
        (63, 0),
        (63, 92.4),
        (1, 92.4),
        (1, 3.5),
        (0, 3.5),
    ),
)
NANHAI_SIZE = (64.0, 93.1)


def nanhai_inset_path(left: float, top: float, height: float) -> str:
    """Path data of the 南海诸岛 inset scaled to `height` px with its top-left at (left, top)."""
    k = height / NANHAI_SIZE[1]
    return "".join(
        "M" + "L".join(f"{_num(left + x * k)},{_num(top + y * k)}" for x, y in shape) + "Z"
        for shape in NANHAI_INSET
    )
