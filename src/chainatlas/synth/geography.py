"""Where firms register: counties (and prefectures without counties), their sizes and names.

Region sizes are heavy-tailed: a lognormal base, times a shared factor per prefecture (big
cities are big everywhere), with urban districts and provincial capitals larger still.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

# Provincial capitals (and municipalities) by prefecture code; GB/T 2260 carries no flag.
CAPITAL_CITIES = frozenset(
    {
        "110100",
        "120100",
        "130100",
        "140100",
        "150100",
        "210100",
        "220100",
        "230100",
        "310100",
        "320100",
        "330100",
        "340100",
        "350100",
        "360100",
        "370100",
        "410100",
        "420100",
        "430100",
        "440100",
        "450100",
        "460100",
        "500100",
        "510100",
        "520100",
        "530100",
        "540100",
        "610100",
        "620100",
        "630100",
        "640100",
        "650100",
    }
)
# Large non-capital economies (计划单列市 and the biggest prefecture economies).
BIG_CITIES = frozenset(
    {
        "440300",
        "320500",
        "370200",
        "330200",
        "350200",
        "210200",
        "441900",
        "440600",
        "320200",
        "330300",
        "350500",
        "320400",
        "320600",
        "330400",
        "330700",
        "331000",
        "330600",
        "370600",
        "130200",
        "320300",
        "370700",
        "442000",
        "440400",
        "341100",
    }
)
# No USCCs are issued there (Taiwan, Hong Kong, Macao; placeholder codes).
EXCLUDED_PROVINCES = frozenset({"71", "81", "82", "99"})

_ETHNIC = re.compile(
    "(壮族|回族|维吾尔|朝鲜族|土家族|苗族|藏族|羌族|彝族|布依族|侗族|哈尼族|傣族|景颇族|傈僳族|白族"
    "|蒙古族|蒙古|哈萨克|柯尔克孜|瑶族|黎族|自治).*$"
)
_SUFFIX = re.compile("(特别行政区|自治区|自治州|自治县|地区|新区|省|市|盟|县|区)$")


def short_name(name: str) -> str:
    """The short form used in firm names: 广西壮族自治区 → 广西, 西双版纳傣族自治州 → 西双版纳."""
    stem = _SUFFIX.sub("", _ETHNIC.sub("", name))
    return stem if len(stem) >= 2 else name


@dataclass(frozen=True)
class RegistrationRegions:
    """The regions firms are registered in, in region-code order (arrays aligned)."""

    codes: tuple[str, ...]
    name_prefix: tuple[str, ...]  # short name of the prefecture (or province) for firm names
    city_code: tuple[str, ...]  # prefecture, or the region itself when it has none
    lon: np.ndarray
    lat: np.ndarray
    city_index: np.ndarray  # dense index of city_code
    province_index: np.ndarray
    weight: np.ndarray  # relative number of firms registered there (sums to 1)

    @property
    def size(self) -> int:
        return len(self.codes)

    @property
    def n_cities(self) -> int:
        return int(self.city_index.max()) + 1

    @property
    def n_provinces(self) -> int:
        return int(self.province_index.max()) + 1

    def within(self, city: str) -> np.ndarray:
        """Indices of the regions of a prefecture (or the region itself)."""
        return np.flatnonzero(
            [c == city or r == city for c, r in zip(self.city_code, self.codes, strict=True)]
        )


def registration_regions(regions: pl.DataFrame, rng: np.random.Generator) -> RegistrationRegions:
    """Counties plus prefectures without counties, with coordinates, outside EXCLUDED_PROVINCES."""
    counties = regions.filter(pl.col("level") == "county")
    with_counties = set(counties["city_code"].drop_nulls().to_list())
    rows = regions.filter(
        (
            (pl.col("level") == "county")
            | ((pl.col("level") == "city") & ~pl.col("region_code").is_in(list(with_counties)))
        )
        & pl.col("lon").is_not_null()
        & pl.col("lat").is_not_null()
        & ~pl.col("province_code").str.slice(0, 2).is_in(list(EXCLUDED_PROVINCES))
    ).sort("region_code")
    if rows.height == 0:
        raise ValueError("no county-level region with coordinates to register firms in")
    names = dict(regions.select("region_code", "name").iter_rows())
    codes = rows["region_code"].to_list()
    # 省直辖县级市 have no prefecture: they stand for themselves.
    cities = [
        c if c is not None else r for c, r in rows.select("city_code", "region_code").iter_rows()
    ]
    prefix = [short_name(names.get(c, c)) for c in cities]
    city_index = _dense(cities)
    province_index = _dense(rows["province_code"].to_list())
    city_factor = rng.lognormal(0.0, 0.5, int(city_index.max()) + 1)[city_index]
    base = rng.lognormal(0.0, 0.9, len(codes))
    urban = np.array([n.endswith("区") for n in rows["name"].to_list()])
    capital = np.array([c in CAPITAL_CITIES for c in cities])
    big = np.array([c in BIG_CITIES for c in cities])
    weight = (
        base
        * city_factor
        * np.where(urban, 2.5, 1.0)
        * np.where(capital, 3.0, 1.0)
        * np.where(big, 2.5, 1.0)
    )
    return RegistrationRegions(
        codes=tuple(codes),
        name_prefix=tuple(prefix),
        city_code=tuple(cities),
        lon=rows["lon"].to_numpy().astype(np.float64),
        lat=rows["lat"].to_numpy().astype(np.float64),
        city_index=city_index,
        province_index=province_index,
        weight=weight / weight.sum(),
    )


def _dense(labels: list[str]) -> np.ndarray:
    order = {v: i for i, v in enumerate(sorted(set(labels)))}
    return np.array([order[v] for v in labels], dtype=np.int32)


def distance_km(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle (haversine) distance in km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 12742.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
