"""The five maps of the briefing pack (N图), each a pure function returning an SVG document.

- 产业链全景图 `panorama_map`: the chain's nodes by stage, upstream → downstream;
- 本地现状图 `status_map`: the same map, nodes coloured by the region's status;
- 企业分布图 `distribution_map`: the chain's firms by county on the map of the province
  (dots sized by firm count, the region's own counties in colour, the rest of the province
  in grey);
- 技术路线图 `technology_map`: key technologies of each node (chain template `technologies`),
  by stage, with the region's status;
- 招商路线图 `investment_route_map`: where the targets are — origin cities → the region,
  as arrows on the map of China.

Boundaries come from `geo` (shipped with the package, no tiles); region coordinates from
`reference.regions`. Output carries no time stamp: the same input gives the same bytes.
Each map is built once as a `Drawing` (`*_drawing`); `Drawing.svg(title=False)` leaves out
the heading and the source line (the PDF page has its own), `*_map` return the document.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import polars as pl

from chainatlas.atlas.graph import layers
from chainatlas.atlas.model import Chain
from chainatlas.briefing import geo
from chainatlas.briefing.chain_map import (
    BREAK_COLOUR,
    FONT_FAMILY,
    NEUTRAL_STYLE,
    STAGE_NAMES,
    STAGE_ORDER,
    STATUS_NAMES,
    STATUS_ORDER,
    STATUS_STYLES,
    chain_map_svg,
    text_width,
    wrap_label,
)
from chainatlas.diagnose.model import DiagnosedNode, Diagnosis, RegionRef
from chainatlas.reference.regions import load_regions

MARGIN = 16.0
HEAD_H = 62.0  # heading + subheading
FOOT_H = 26.0
GEO_WIDTH = 1120.0
GEO_MAP_W = 770.0
GEO_MAP_H = 640.0
PANEL_X = MARGIN + GEO_MAP_W + 22
INK = "#1f2937"
MUTED = "#5f6b7a"
HEAD = "#0f2a4a"
ACCENT = "#1d4f91"
LOCAL_DOT = "#d9480f"
OTHER_DOT = "#8da2b8"
ROUTE = "#1d4f91"
HOME = "#d62828"
LAND = "#eef3f8"
LAND_STROKE = "#a9bccf"
CONTEXT_LAND = "#f5f6f8"
CONTEXT_STROKE = "#d3d9e0"
HOME_LAND = "#fde7d9"

MAX_ROUTES = 15
ROUTE_LABELS = 10
DOT_LABELS = 10
PANEL_ROWS = 12

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


def _n(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _t(zh: str, en: str, lang: str) -> str:
    return zh if lang == "zh" else en


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")


def _text(
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    fill: str = INK,
    weight: str | None = None,
    anchor: str = "start",
    halo: bool = False,
    cls: str | None = None,
) -> str:
    attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"', f'font-size="{_n(size)}"', f'fill="{fill}"']
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if halo:
        attrs.append(
            'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
        )
    if cls:
        attrs.append(f'class="{cls}"')
    return f"<text {' '.join(attrs)}>{escape(text)}</text>"


@dataclass(frozen=True)
class Frame:
    """Heading, subheading and source line around a map body."""

    heading: str
    subheading: str
    source: str


@dataclass(frozen=True)
class Drawing:
    """A map body drawn from y = 0, with what frames it; `svg(title)` makes the document."""

    kind: str
    width: float
    body_height: float
    body: tuple[str, ...]
    frame: Frame
    lang: str

    def svg(self, title: bool = True) -> str:
        """A standalone SVG; with a title the body moves down under the heading and a source
        line is added at the bottom."""
        # whole pixels: a PNG of the document is exactly its size times the scale
        width, frame = float(math.ceil(self.width)), self.frame
        top = HEAD_H if title else 0.0
        height = float(math.ceil(top + self.body_height + (FOOT_H if title else 0.0)))
        o = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="pack-map map-{self.kind}" '
            f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
            f'role="img" font-family={quoteattr(FONT_FAMILY)} '
            f'lang="{"zh-CN" if self.lang == "zh" else "en"}">',
            f"<title>{escape(frame.heading)}</title>",
            f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        ]
        if title:
            o.append(_text(MARGIN, 30, frame.heading, 20, fill=HEAD, weight="700", cls="heading"))
            o.append(_text(MARGIN, 51, frame.subheading, 12.5, fill=MUTED, cls="subheading"))
            o.append(
                f'<path d="M{_n(MARGIN)},{_n(HEAD_H - 4)}H{_n(width - MARGIN)}" '
                f'stroke="{HEAD}" stroke-width="2"/>'
            )
            o.append(f'<g transform="translate(0,{_n(top)})">')
        o.extend(self.body)
        if title:
            o.append("</g>")
            o.append(_text(MARGIN, height - 9, frame.source, 10.5, fill="#7b8592", cls="source"))
        o.append("</svg>")
        return "\n".join(o) + "\n"


def _document(
    kind: str, width: float, body_h: float, body: list[str], frame: Frame, lang: str
) -> Drawing:
    return Drawing(kind, width, body_h, tuple(body), frame, lang)


def _nested(svg: str, x: float, y: float, prefix: str) -> tuple[str, float, float]:
    """An SVG document as a nested <svg> at (x, y), its ids prefixed so that several maps can
    sit inline in one HTML page. Returns (markup, width, height)."""
    head, _, rest = svg.partition(">")
    attrs = dict(
        part.split("=", 1) for part in head.split(" ") if part.startswith(("width=", "height="))
    )
    w = float(attrs["width"].strip('"'))
    h = float(attrs["height"].strip('"'))
    for old in ('id="ca-', "url(#ca-", 'aria-labelledby="ca-'):
        rest = rest.replace(old, old.replace("ca-", f"{prefix}-ca-"))
    head = head.replace("<svg ", f'<svg x="{_n(x)}" y="{_n(y)}" ', 1)
    return head + ">" + rest, w, h


def _source(lang: str, data_note: str, boundaries: bool) -> str:
    parts = []
    if data_note:
        parts.append(data_note)
    if boundaries:
        parts.append(_t("边界：", "Boundaries: ", lang) + geo.ECHARTS_SOURCE)
    parts.append(_t("制图：chainatlas", "Made with chainatlas", lang))
    return " · ".join(parts)


# ---------------------------------------------------------------- 1, 2: chain maps


def panorama_drawing(chain: Chain, lang: str = "zh", *, data_note: str = "") -> Drawing:
    """产业链全景图: every node of the chain by stage, upstream → downstream, with the supply
    (and recycling) edges; no regional data."""
    _check_lang(lang)
    inner, w, h = _nested(chain_map_svg(chain, None, lang, title=False), 0, 0, "pano")
    heading = _t(f"{chain.name_zh}产业链全景图", f"{chain.name_en}: chain panorama", lang)
    stages = {n.stage for n in chain.nodes}
    sub = _t(
        f"{len(chain.nodes)} 个环节 · {len(stages)} 个阶段 · {len(chain.edges)} 条供应关系",
        f"{len(chain.nodes)} nodes · {len(stages)} stages · {len(chain.edges)} supply edges",
        lang,
    )
    width = max(w, 900.0)
    return _document(
        "panorama",
        width,
        h,
        [inner],
        Frame(heading, sub, _source(lang, data_note, False)),
        lang,
    )


def status_drawing(
    chain: Chain, diagnosis: Diagnosis, lang: str = "zh", *, data_note: str = ""
) -> Drawing:
    """本地现状图: the chain map with each node coloured by the region's status, breaks marked."""
    _check_lang(lang)
    inner, w, h = _nested(chain_map_svg(chain, diagnosis, lang, title=False), 0, 0, "status")
    region = diagnosis.region.full_name
    heading = _t(
        f"{region}·{chain.name_zh}产业链本地现状图",
        f"{chain.name_en}: local status — {region}",
        lang,
    )
    c = diagnosis.status_counts
    counts = "，".join(f"{STATUS_NAMES[s][0]} {c.get(s, 0)}" for s in (*STATUS_ORDER, "break"))
    counts_en = ", ".join(
        f"{STATUS_NAMES[s][1].lower()} {c.get(s, 0)}" for s in (*STATUS_ORDER, "break")
    )
    sub = _t(
        f"本地企业 {diagnosis.firm_count:,} 家 · 产业链完整度 {diagnosis.completeness:.0%} · {counts}",
        f"{diagnosis.firm_count:,} local firms · completeness {diagnosis.completeness:.0%} · "
        f"{counts_en}",
        lang,
    )
    return _document(
        "status",
        max(w, 900.0),
        h,
        [inner],
        Frame(heading, sub, _source(lang, data_note, False)),
        lang,
    )


# ---------------------------------------------------------------- label placement


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label_rect(x: float, y: float, text: str, size: float, anchor: str) -> Rect:
    w = text_width(text, size)
    x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
    return (x0 - 1, y - size * 0.9, x0 + w + 1, y + size * 0.25)


def place_label(
    x: float, y: float, r: float, text: str, size: float, taken: list[Rect], bounds: Rect
) -> tuple[float, float, str] | None:
    """The first of eight positions around a dot of radius r where the label overlaps no
    rectangle in `taken` and stays inside `bounds`; the chosen box is added to `taken`."""
    gap = r + 3
    candidates = (
        (x + gap, y + size * 0.35, "start"),
        (x - gap, y + size * 0.35, "end"),
        (x, y - gap - 2, "middle"),
        (x, y + gap + size * 0.85, "middle"),
        (x + gap * 0.75, y - gap * 0.75, "start"),
        (x - gap * 0.75, y - gap * 0.75, "end"),
        (x + gap * 0.75, y + gap * 0.75 + size * 0.7, "start"),
        (x - gap * 0.75, y + gap * 0.75 + size * 0.7, "end"),
    )
    for lx, ly, anchor in candidates:
        rect = _label_rect(lx, ly, text, size, anchor)
        inside = (
            rect[0] >= bounds[0]
            and rect[1] >= bounds[1]
            and rect[2] <= bounds[2]
            and rect[3] <= bounds[3]
        )
        if inside and not any(_overlaps(rect, t) for t in taken):
            taken.append(rect)
            return lx, ly, anchor
    return None


def dot_radius(count: float, max_count: float, r_min: float = 3.0, r_max: float = 22.0) -> float:
    """Area proportional to the count: r = r_min + (r_max − r_min)·√(count / max)."""
    if max_count <= 0 or count <= 0:
        return r_min
    return r_min + (r_max - r_min) * math.sqrt(min(count, max_count) / max_count)


# ---------------------------------------------------------------- geographic base


def _visible(features: Sequence[geo.Feature], screen: geo.Screen, box: Rect) -> list[geo.Feature]:
    out = []
    for f in features:
        lo0, la0, lo1, la1 = f.bounds()
        xs, ys = screen.xy(np.array([lo0, lo1, lo0, lo1]), np.array([la0, la0, la1, la1]))
        # a conic's parallels curve: pad the corner box a little
        fb = (
            float(xs.min()) - 40,
            float(ys.min()) - 40,
            float(xs.max()) + 40,
            float(ys.max()) + 40,
        )
        if _overlaps(fb, box):
            out.append(f)
    return out


def _land(
    features: Sequence[geo.Feature],
    screen: geo.Screen,
    fill: str,
    stroke: str,
    width: float,
    cls: str,
    highlight: dict[str, tuple[str, str]] | None = None,
) -> list[str]:
    out = [f'<g class="{cls}" stroke-linejoin="round">']
    for f in features:
        d = geo.path_data(f, screen)
        if not d:
            continue
        fl, st = (highlight or {}).get(f.code or "", (fill, stroke))
        sw = width * 1.8 if f.code and highlight and f.code in highlight else width
        code = f' data-code="{f.code}"' if f.code else ""
        out.append(
            f'<path{code} data-name={quoteattr(f.name)} d="{d}" fill="{fl}" stroke="{st}" '
            f'stroke-width="{_n(sw)}"/>'
        )
    out.append("</g>")
    return out


def _nanhai(left: float, top: float, height: float, lang: str) -> list[str]:
    w = height * geo.NANHAI_SIZE[0] / geo.NANHAI_SIZE[1]
    return [
        '<g class="nanhai">',
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(w)}" height="{_n(height)}" '
        f'fill="#ffffff"/>',
        f'<path d="{geo.nanhai_inset_path(left, top, height)}" fill="{LAND_STROKE}" '
        'stroke="none"/>',
        _text(
            left + w / 2,
            top + height - 6,
            _t("南海诸岛", "S. China Sea Is.", lang),
            9.5,
            fill=MUTED,
            anchor="middle",
        ),
        "</g>",
    ]


def _china_base(box: Rect, lang: str, highlight: str | None) -> tuple[list[str], geo.Screen]:
    """Provinces of China fitted into `box`, with province names and the 南海诸岛 inset."""
    china = geo.load_china()
    x0, y0, x1, y1 = box
    screen = geo.fit(china, x0, y0, x1 - x0, y1 - y0)
    hl = {highlight: (HOME_LAND, LOCAL_DOT)} if highlight else None
    out = _land(china, screen, LAND, LAND_STROKE, 0.8, "land provinces", hl)
    out.append('<g class="province-names">')
    for f in china:
        if f.centre and f.code not in ("810000", "820000"):  # 港澳 are too small to name
            px, py = screen.point(*f.centre)
            out.append(_text(px, py + 4, f.name, 10, fill="#97a6b6", anchor="middle"))
    out.append("</g>")
    inset_h = (y1 - y0) * 0.2
    inset_w = inset_h * geo.NANHAI_SIZE[0] / geo.NANHAI_SIZE[1]
    out.extend(_nanhai(x1 - inset_w - 6, y1 - inset_h - 4, inset_h, lang))
    return out, screen


MUNICIPALITIES = ("11", "12", "31", "50")
PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
}


def short_province(name: str) -> str:
    """广西壮族自治区 → 广西, 黑龙江省 → 黑龙江, 上海市 → 上海."""
    if name in PROVINCE_SHORT:
        return PROVINCE_SHORT[name]
    return name.removesuffix("省").removesuffix("市")


def origin_label(code: str, regions: dict[str, dict[str, object]]) -> str:
    """A city with its province (江苏·南京市); a municipality (上海市) or a province alone."""
    r = regions.get(code)
    if r is None:
        return code
    province = regions.get(code[:2] + "0000")
    if province is not None and code[:2] in MUNICIPALITIES:
        return str(province["name"])
    if province is not None and r["level"] == "city":
        return f"{short_province(str(province['name']))}·{r['name']}"
    return str(r["name"])


@cache
def _regions_by_code() -> dict[str, dict[str, object]]:
    return {r["region_code"]: r for r in load_regions().iter_rows(named=True)}


# ---------------------------------------------------------------- 3: 企业分布图


def _bar_panel(
    x: float,
    y: float,
    width: float,
    heading: str,
    rows: Sequence[tuple[str, float, str]],
    colour: str,
    note: str = "",
) -> tuple[list[str], float]:
    """A ranked list with bars: (label, value, value text). Returns markup and bottom y."""
    out = [_text(x, y + 14, heading, 14, fill=HEAD, weight="700")]
    y += 26
    top = max((v for _, v, _ in rows), default=0.0) or 1.0
    label_w = min(150.0, max((text_width(lb, 12) for lb, _, _ in rows), default=40.0) + 6)
    bar_x = x + label_w + 4
    value_w = max((text_width(t, 11.5) for _, _, t in rows), default=20.0) + 6
    bar_max = max(20.0, width - label_w - value_w - 8)
    for label, value, value_text in rows:
        shown = wrap_label(label, label_w - 4, 12, max_lines=1)[0]
        out.append(_text(x, y + 12, shown, 12, fill=INK))
        bw = max(1.5, bar_max * value / top)
        out.append(
            f'<rect x="{_n(bar_x)}" y="{_n(y + 3)}" width="{_n(bw)}" height="11" rx="2" '
            f'fill="{colour}" fill-opacity="0.75"/>'
        )
        out.append(_text(bar_x + bw + 4, y + 12.5, value_text, 11.5, fill=MUTED))
        y += 20
    if note:
        y += 4
        for line in wrap_label(note, width, 11, max_lines=3):
            out.append(_text(x, y + 11, line, 11, fill=MUTED))
            y += 15
    return out, y


@dataclass(frozen=True)
class _County:
    code: str
    name: str
    lon: float
    lat: float
    firm_count: int
    local: bool


def _counties(
    county_firms: pl.DataFrame, region: RegionRef, regions: dict[str, dict[str, object]]
) -> list[_County]:
    """Counties of the region's province with firms and coordinates, biggest first (ties by
    code); rows of other provinces are left out."""
    province = region.code[:2] + "0000"
    out = []
    for code, count in county_firms.select("region_code", "firm_count").iter_rows():
        r = regions.get(code)
        if r is None or r["lon"] is None or r["lat"] is None or not count:
            continue
        if r["province_code"] != province:
            continue
        out.append(
            _County(
                code,
                str(r["name"]),
                float(r["lon"]),  # type: ignore[arg-type]
                float(r["lat"]),  # type: ignore[arg-type]
                int(count),
                _is_local(r, region),
            )
        )
    return sorted(out, key=lambda c: (-c.firm_count, c.code))


def _label_point(f: geo.Feature, screen: geo.Screen, bounds: Rect) -> tuple[float, float] | None:
    """Where to write an area's name: its label point when on the map, else the middle of
    its visible part (grid points inside it), or None when too little of it shows."""
    inner = (bounds[0] + 24, bounds[1] + 14, bounds[2] - 24, bounds[3] - 10)
    if f.centre:
        x, y = screen.point(*f.centre)
        if inner[0] < x < inner[2] and inner[1] < y < inner[3]:
            return x, y
    rings = [
        np.column_stack(screen.xy(ring[:, 0], ring[:, 1]))
        for poly in f.polygons
        for ring in poly[:1]
    ]
    gx, gy = np.meshgrid(np.linspace(inner[0], inner[2], 18), np.linspace(inner[1], inner[3], 15))
    xs, ys = gx.ravel(), gy.ravel()
    hits = np.zeros(xs.size, dtype=bool)
    for ring in rings:
        hits |= geo.points_in_ring(ring, xs, ys)
    if np.count_nonzero(hits) < 4:
        return None
    pts = np.column_stack([xs[hits], ys[hits]])
    mid = pts.mean(axis=0)
    best = pts[np.argmin(((pts - mid) ** 2).sum(axis=1))]
    return float(best[0]), float(best[1])


def _is_local(row: dict[str, object], region: RegionRef) -> bool:
    if region.level == "province":
        return row["province_code"] == region.code
    if region.level == "city":
        return row["city_code"] == region.code
    return row["region_code"] == region.code


def distribution_drawing(
    county_firms: pl.DataFrame,
    region: RegionRef,
    chain: Chain,
    lang: str = "zh",
    *,
    data_note: str = "",
) -> Drawing:
    """企业分布图 on the map of the region's province.

    `county_firms`: one row per county of the province with firms on the chain —
    `region_code` (county), `firm_count` (distinct active firms on the chain). Counties
    inside `region` are drawn in colour and ranked in the side panel; the rest of the
    province in grey, for context. Dots: area ∝ firm count."""
    _check_lang(lang)
    for col in ("region_code", "firm_count"):
        if col not in county_firms.columns:
            raise ValueError(f"county_firms needs column {col!r}")
    regions = _regions_by_code()
    province = region.code[:2] + "0000"
    try:
        features = geo.load_province(province)
    except KeyError:
        features = ()
    box: Rect = (MARGIN, 8, MARGIN + GEO_MAP_W, 8 + GEO_MAP_H)
    bounds: Rect = (box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2)
    base: list[str] = []
    names: list[tuple[float, float, str]] = []  # area names: drawn under the dots if room
    if features:
        screen = geo.fit(features, box[0] + 10, box[1] + 10, GEO_MAP_W - 20, GEO_MAP_H - 20)
        context = _visible([f for f in geo.load_china() if f.code != province], screen, box)
        base.append(
            f'<clipPath id="dist-clip"><rect x="{_n(box[0])}" y="{_n(box[1])}" '
            f'width="{_n(GEO_MAP_W)}" height="{_n(GEO_MAP_H)}"/></clipPath>'
        )
        base.append('<g clip-path="url(#dist-clip)">')
        base.extend(_land(context, screen, CONTEXT_LAND, CONTEXT_STROKE, 0.8, "land context"))
        # the region's own outline: a city, or a county's city (a municipality's district
        # is itself an area of the base map)
        home = {region.code} if region.level != "province" else set()
        if region.level == "county":
            parent = regions.get(region.code, {}).get("city_code")
            home |= {str(parent)} if parent else set()
        highlight = {c: (HOME_LAND, LOCAL_DOT) for c in home}
        base.extend(_land(features, screen, LAND, LAND_STROKE, 0.9, "land province", highlight))
        base.append("</g>")
        for f in features:
            at = _label_point(f, screen, bounds)
            if at:
                names.append((*at, f.name))
        for f in context:
            at = _label_point(f, screen, bounds)
            if at:
                names.append((*at, short_province(f.name)))
    else:  # no boundary file: the map of China
        base, screen = _china_base(box, lang, province)
    base.append(
        f'<rect x="{_n(box[0])}" y="{_n(box[1])}" width="{_n(GEO_MAP_W)}" '
        f'height="{_n(GEO_MAP_H)}" fill="none" stroke="#c9d5e3"/>'
    )

    counties = _counties(county_firms, region, regions)
    local = [c for c in counties if c.local]
    max_count = float(max((c.firm_count for c in counties), default=0))
    dots: list[str] = ['<g class="dots">']
    placed: list[tuple[_County, float, float, float]] = []
    for c in counties:  # big dots first, so small ones stay visible on top
        x, y = screen.point(c.lon, c.lat)
        rad = dot_radius(c.firm_count, max_count)
        colour, alpha = (LOCAL_DOT, 0.78) if c.local else (OTHER_DOT, 0.55)
        dots.append(
            f'<circle class="dot{" local" if c.local else ""}" data-code="{c.code}" '
            f'data-count="{c.firm_count}" cx="{_n(x)}" cy="{_n(y)}" r="{_n(rad)}" '
            f'fill="{colour}" fill-opacity="{alpha}" stroke="#ffffff" stroke-width="1"/>'
        )
        placed.append((c, x, y, rad))
    dots.append("</g>")
    # labels: the region's biggest counties first, their dots' cores are obstacles; then the
    # names of the areas where they do not cover a label or a local dot
    taken: list[Rect] = [
        (x - rad * 0.5, y - rad * 0.5, x + rad * 0.5, y + rad * 0.5)
        for c, x, y, rad in placed
        if c.local
    ]
    labels = ['<g class="labels">']
    for c, x, y, rad in [p for p in placed if p[0].local][:DOT_LABELS]:
        text = f"{c.name} {c.firm_count:,}"
        spot = place_label(x, y, rad, text, 12.5, taken, bounds)
        if spot:
            labels.append(
                _text(
                    spot[0],
                    spot[1],
                    text,
                    12.5,
                    fill="#7c2d12",
                    weight="700",
                    anchor=spot[2],
                    halo=True,
                    cls="dot-label",
                )
            )
    labels.append("</g>")
    taken.extend((x - rad, y - rad, x + rad, y + rad) for c, x, y, rad in placed)
    area_names = ['<g class="area-names">']
    for x, y, name in names:
        for dy in (4, 18, -10, 30, -22):
            rect = _label_rect(x, y + dy, name, 12, "middle")
            if not any(_overlaps(rect, t) for t in taken):
                taken.append(rect)
                area_names.append(_text(x, y + dy, name, 12, fill="#98a5b3", anchor="middle"))
                break
    area_names.append("</g>")
    body = [*base, *area_names, *dots, *labels]
    if not local:
        msg = _t("本地暂无该产业链企业", "No local firms on this chain", lang)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        w = text_width(msg, 16) + 36
        body.append(
            f'<rect x="{_n(cx - w / 2)}" y="{_n(cy - 22)}" width="{_n(w)}" height="40" rx="6" '
            'fill="#ffffff" fill-opacity="0.92" stroke="#c9d5e3"/>'
        )
        body.append(_text(cx, cy + 4, msg, 16, fill=MUTED, anchor="middle", cls="empty"))

    # side panel: ranking, totals, legend
    total_local = sum(c.firm_count for c in local)
    total = sum(c.firm_count for c in counties)
    panel_w = GEO_WIDTH - PANEL_X - MARGIN
    ranking = [(c.name, float(c.firm_count), f"{c.firm_count:,}") for c in local[:PANEL_ROWS]]
    more = len(local) - len(ranking)
    note = _t(f"另有 {more} 个区县", f"{more} more counties", lang) if more > 0 else ""
    panel, py = _bar_panel(
        PANEL_X,
        box[1],
        panel_w,
        _t("本地区县企业数", "Local firms by county", lang),
        ranking,
        LOCAL_DOT,
        note,
    )
    body.extend(panel)
    py += 16
    province_name = str(regions.get(province, {}).get("name", province))
    whole = (
        "全市"
        if province[:2] in MUNICIPALITIES
        else "全区"
        if "自治区" in province_name
        else "全省"
    )
    facts = [
        _t(
            f"本地：{total_local:,} 家，{len(local)} 个区县",
            f"Local: {total_local:,} firms in {len(local)} counties",
            lang,
        )
    ]
    if region.level != "province":
        facts.append(
            _t(
                f"{province_name}{whole}：{total:,} 家，{len(counties)} 个区县",
                f"{province_name}: {total:,} firms in {len(counties)} counties",
                lang,
            )
        )
    for line in facts:
        body.append(_text(PANEL_X, py + 12, line, 12, fill=INK))
        py += 19
    py += 12
    body.append(_text(PANEL_X, py + 12, _t("图例", "Legend", lang), 13, fill=HEAD, weight="700"))
    py += 24
    legend = [
        (
            LOCAL_DOT,
            0.78,
            _t(f"本地（{region.name}）", f"local ({region.name})", lang)
            if region.level == "county"
            else _t(f"{region.name}的区县", f"counties of {region.name}", lang),
        )
    ]
    if region.level != "province":
        within = {"全市": "市", "全区": "自治区", "全省": "省"}[whole]
        other = _t(f"{within}内其他区县", "other counties of the province", lang)
        legend.append((OTHER_DOT, 0.55, other))
    for colour, alpha, label in legend:
        body.append(
            f'<circle cx="{_n(PANEL_X + 8)}" cy="{_n(py + 7)}" r="7" fill="{colour}" '
            f'fill-opacity="{alpha}"/>'
        )
        body.append(_text(PANEL_X + 22, py + 11.5, label, 12, fill=INK))
        py += 22
    if max_count > 0:
        py += 4
        samples = sorted({max(1, round(max_count * f)) for f in (0.05, 0.3, 1.0)})
        x = PANEL_X + 4
        base_y = py + 2 * dot_radius(max_count, max_count) + 2
        for s in samples:
            rad = dot_radius(s, max_count)
            body.append(
                f'<circle cx="{_n(x + rad)}" cy="{_n(base_y - rad)}" r="{_n(rad)}" fill="none" '
                f'stroke="{MUTED}"/>'
            )
            body.append(_text(x + rad, base_y + 14, f"{s:,}", 11, fill=MUTED, anchor="middle"))
            x += 2 * rad + 16
        body.append(_text(x + 4, base_y - 4, _t("家企业", "firms", lang), 11.5, fill=MUTED))
    heading = _t(
        f"{region.full_name}·{chain.name_zh}产业链企业分布图",
        f"{chain.name_en}: firms by county — {region.full_name}",
        lang,
    )
    sub = _t(
        f"按区县统计该链在营企业数（一家企业归入多个环节时只计一次）；底图为{province_name}",
        f"Active firms on the chain per county (a firm in several nodes counts once); base map: "
        f"{province_name}",
        lang,
    )
    return _document(
        "distribution",
        GEO_WIDTH,
        GEO_MAP_H + 16,
        body,
        Frame(heading, sub, _source(lang, data_note, True)),
        lang,
    )


# ---------------------------------------------------------------- 4: 技术路线图

CARD_W = 196.0
CARD_GAP = 12.0
TECH_SIZE = 11.5
NAME_SIZE = 13.0


def _status_of(diag: dict[str, DiagnosedNode], node_id: str) -> tuple[str | None, bool]:
    dn = diag.get(node_id)
    return (dn.status, dn.is_break) if dn else (None, False)


def _chips(items: Sequence[str], width: float) -> list[list[tuple[str, float]]]:
    """Lay technology names out as chips in lines of at most `width` px."""
    lines: list[list[tuple[str, float]]] = [[]]
    used = 0.0
    for item in items:
        text = wrap_label(item, width - 14, TECH_SIZE, max_lines=1)[0]
        w = text_width(text, TECH_SIZE) + 14
        if lines[-1] and used + w > width:
            lines.append([])
            used = 0.0
        lines[-1].append((text, w))
        used += w + 5
    return [line for line in lines if line]


def technology_drawing(
    chain: Chain,
    diagnosis: Diagnosis | None = None,
    lang: str = "zh",
    *,
    data_note: str = "",
) -> Drawing:
    """技术路线图: one card per node, in bands by stage and left to right by depth in the
    chain; each card lists the node's key technologies (template `technologies`). With a
    diagnosis, a card shows the region's status (and 断链) so gaps read as 攻关 targets."""
    _check_lang(lang)
    diag = {n.id: n for n in diagnosis.nodes} if diagnosis else {}
    depth = layers(chain)
    order = {n.id: i for i, n in enumerate(chain.nodes)}
    stages = [s for s in STAGE_ORDER if any(n.stage == s for n in chain.nodes)] + [
        s for s in dict.fromkeys(n.stage for n in chain.nodes) if s not in STAGE_ORDER
    ]
    strip_w = 78.0
    width = GEO_WIDTH
    x_start = MARGIN + strip_w + 12
    room = width - MARGIN - 12 - x_start
    per_row = max(1, int((room + CARD_GAP) // (CARD_W + CARD_GAP)))
    card_w = (room - CARD_GAP * (per_row - 1)) / per_row
    inner = card_w - 20
    body: list[str] = []
    y = 8.0
    for i, stage in enumerate(stages):
        nodes = sorted(
            (n for n in chain.nodes if n.stage == stage), key=lambda n: (depth[n.id], order[n.id])
        )
        cards: list[tuple[str, list[str], list[list[tuple[str, float]]], float]] = []
        for n in nodes:
            status, is_break = _status_of(diag, n.id)
            pill_w = 0.0
            if status:
                pill_w = text_width(STATUS_NAMES[status][0 if lang == "zh" else 1], 10.5) + 16
            if is_break:
                pill_w += text_width(STATUS_NAMES["break"][0 if lang == "zh" else 1], 10.5) + 16
            name = n.name_zh if lang == "zh" else n.name_en
            name_lines = wrap_label(name, inner - pill_w, NAME_SIZE, max_lines=2, bold=True)
            chips = _chips(n.technologies, inner)
            h = 12 + len(name_lines) * 17 + 6 + max(1, len(chips)) * 25 + 6
            cards.append((n.id, name_lines, chips, h))
        rows = [cards[k : k + per_row] for k in range(0, len(cards), per_row)] or [[]]
        band_top = y
        row_heights = [max((c[3] for c in row), default=40.0) for row in rows]
        band_h = sum(row_heights) + CARD_GAP * (len(rows) - 1) + 24
        zh_name, en_name = STAGE_NAMES.get(stage, (stage, stage))
        body.append(f'<g class="band" data-stage="{escape(stage)}">')
        body.append(
            f'<rect x="{_n(MARGIN)}" y="{_n(band_top)}" width="{_n(width - 2 * MARGIN)}" '
            f'height="{_n(band_h)}" fill="{("#f5f8fc", "#fbfcfe")[i % 2]}" stroke="#dbe3ec"/>'
        )
        body.append(
            f'<rect x="{_n(MARGIN)}" y="{_n(band_top)}" width="{_n(strip_w)}" '
            f'height="{_n(band_h)}" fill="#e6edf6"/>'
        )
        cy = band_top + band_h / 2
        big, small = (zh_name, en_name) if lang == "zh" else (en_name, zh_name)
        body.append(
            _text(
                MARGIN + strip_w / 2,
                cy - 3,
                big,
                15 if lang == "zh" else 13,
                fill="#1d3a5f",
                weight="700",
                anchor="middle",
            )
        )
        body.append(
            _text(MARGIN + strip_w / 2, cy + 14, small, 9.5, fill="#5b708a", anchor="middle")
        )
        ry = band_top + 12
        for row, rh in zip(rows, row_heights, strict=True):
            for k, (nid, name_lines, chips, _h) in enumerate(row):
                x = x_start + k * (card_w + CARD_GAP)
                status, is_break = _status_of(diag, nid)
                style = STATUS_STYLES[status] if status else NEUTRAL_STYLE
                stroke = BREAK_COLOUR if is_break else "#c5d0dc"
                body.append(
                    f'<g class="tech-card" data-node="{escape(nid)}" '
                    f'data-status="{status or "none"}">'
                )
                body.append(
                    f'<rect x="{_n(x)}" y="{_n(ry)}" width="{_n(card_w)}" height="{_n(rh)}" '
                    f'rx="7" fill="#ffffff" stroke="{stroke}" '
                    f'stroke-width="{2.4 if is_break else 1}"/>'
                )
                body.append(
                    f'<rect x="{_n(x)}" y="{_n(ry)}" width="6" height="{_n(rh)}" rx="3" '
                    f'fill="{style.stroke}"/>'
                )
                ty = ry + 12 + 13
                for name_line in name_lines:
                    body.append(_text(x + 12, ty, name_line, NAME_SIZE, fill=HEAD, weight="700"))
                    ty += 17
                if status:
                    pill = STATUS_NAMES[status][0 if lang == "zh" else 1]
                    pw = text_width(pill, 10.5) + 12
                    px = x + card_w - pw - 7
                    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
                    body.append(
                        f'<rect x="{_n(px)}" y="{_n(ry + 8)}" width="{_n(pw)}" height="17" '
                        f'rx="8.5" fill="{style.fill}" stroke="{style.stroke}"{dash}/>'
                    )
                    body.append(
                        _text(
                            px + pw / 2,
                            ry + 20.5,
                            pill,
                            10.5,
                            fill=style.text,
                            weight="700",
                            anchor="middle",
                        )
                    )
                    if is_break:
                        bl = STATUS_NAMES["break"][0 if lang == "zh" else 1]
                        bw = text_width(bl, 10.5) + 12
                        body.append(
                            f'<rect x="{_n(px - bw - 4)}" y="{_n(ry + 8)}" width="{_n(bw)}" '
                            f'height="17" rx="8.5" fill="{BREAK_COLOUR}"/>'
                        )
                        body.append(
                            _text(
                                px - bw / 2 - 4,
                                ry + 20.5,
                                bl,
                                10.5,
                                fill="#ffffff",
                                weight="700",
                                anchor="middle",
                            )
                        )
                cy2 = ty - 6
                if not chips:
                    body.append(
                        _text(
                            x + 12,
                            cy2 + 15,
                            _t("模板未列关键技术", "no key technology listed", lang),
                            11,
                            fill="#9aa3ae",
                            cls="no-tech",
                        )
                    )
                for line in chips:
                    cx = x + 12
                    for text, w in line:
                        body.append(
                            f'<rect x="{_n(cx)}" y="{_n(cy2)}" width="{_n(w)}" height="20" '
                            f'rx="4" fill="#eef3f9" stroke="#c9d7e8"/>'
                        )
                        body.append(
                            _text(cx + 7, cy2 + 14, text, TECH_SIZE, fill="#1d3a5f", cls="tech")
                        )
                        cx += w + 5
                    cy2 += 25
                body.append("</g>")
            ry += rh + CARD_GAP
        body.append("</g>")
        y = band_top + band_h
    # legend
    y += 14
    lx = MARGIN + strip_w + 12
    if diagnosis is not None:
        for key in (*STATUS_ORDER, "break"):
            label = STATUS_NAMES[key][0 if lang == "zh" else 1]
            colour = BREAK_COLOUR if key == "break" else STATUS_STYLES[key].stroke
            body.append(
                f'<rect x="{_n(lx)}" y="{_n(y)}" width="6" height="16" rx="3" fill="{colour}"/>'
            )
            body.append(_text(lx + 12, y + 12.5, label, 12, fill=INK))
            lx += 12 + text_width(label, 12) + 22
    body.append(
        _text(
            lx + 8,
            y + 12.5,
            _t(
                "关键技术取自产业链模板（technologies）",
                "Key technologies from the chain template (technologies)",
                lang,
            ),
            11.5,
            fill=MUTED,
        )
    )
    y += 24
    n_tech = sum(len(n.technologies) for n in chain.nodes)
    if diagnosis is not None:
        heading = _t(
            f"{diagnosis.region.full_name}·{chain.name_zh}产业链技术路线图",
            f"{chain.name_en}: technology map — {diagnosis.region.full_name}",
            lang,
        )
    else:
        heading = _t(f"{chain.name_zh}产业链技术路线图", f"{chain.name_en}: technology map", lang)
    sub = _t(
        f"{len(chain.nodes)} 个环节 · {n_tech} 项关键技术；左侧色条为本地环节状态，红框为断链",
        f"{len(chain.nodes)} nodes · {n_tech} key technologies; the left bar shows the local "
        "status, a red frame a break",
        lang,
    )
    return _document(
        "technology",
        width,
        y,
        body,
        Frame(heading, sub, _source(lang, data_note, False)),
        lang,
    )


# ---------------------------------------------------------------- 5: 招商路线图

TARGET_COLUMNS = (
    "uscc",
    "name",
    "node_id",
    "region_code",
    "province_code",
    "city_code",
    "score",
    "registered_capital",
)


def target_origins(targets: pl.DataFrame) -> pl.DataFrame:
    """Targets grouped by origin city (the province where a county has no city):
    origin_code, targets (count), best_score, capital (万元, sum), nodes (distinct node ids),
    sorted by targets then best score, descending."""
    if not targets.height:
        return pl.DataFrame(
            schema={
                "origin_code": pl.String,
                "targets": pl.UInt32,
                "best_score": pl.Float64,
                "capital": pl.Float64,
                "nodes": pl.List(pl.String),
            }
        )
    return (
        targets.with_columns(
            pl.coalesce(pl.col("city_code"), pl.col("province_code")).alias("origin_code")
        )
        .group_by("origin_code")
        .agg(
            pl.len().alias("targets"),
            pl.col("score").max().alias("best_score"),
            pl.col("registered_capital").sum().alias("capital"),
            pl.col("node_id").unique().sort().alias("nodes"),
        )
        .sort(["targets", "best_score", "origin_code"], descending=[True, True, False])
    )


def _curve(
    x0: float, y0: float, x1: float, y1: float, stop: float
) -> tuple[str, tuple[float, float], tuple[float, float]]:
    """A quadratic arc from (x0, y0) towards (x1, y1), bent to its left and ending `stop` px
    short of the end (arcs converge on one place). Returns the path data, and the point and
    unit tangent at 60 % of the arc, where the arrowhead sits: heads at the end would pile up
    on the destination."""
    dx, dy = x1 - x0, y1 - y0
    dist = math.hypot(dx, dy) or 1.0
    cx, cy = (x0 + x1) / 2 - dy * 0.18, (y0 + y1) / 2 + dx * 0.18
    tx, ty = x1 - cx, y1 - cy
    tl = math.hypot(tx, ty) or 1.0
    ex, ey = x1 - tx / tl * min(stop, dist * 0.4), y1 - ty / tl * min(stop, dist * 0.4)
    t = 0.6
    mx = (1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t * t * ex
    my = (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t * t * ey
    gx = 2 * (1 - t) * (cx - x0) + 2 * t * (ex - cx)
    gy = 2 * (1 - t) * (cy - y0) + 2 * t * (ey - cy)
    gl = math.hypot(gx, gy) or 1.0
    return f"M{_n(x0)},{_n(y0)}Q{_n(cx)},{_n(cy)} {_n(ex)},{_n(ey)}", (mx, my), (gx / gl, gy / gl)


def investment_route_drawing(
    targets: pl.DataFrame | None,
    region: RegionRef,
    chain: Chain,
    lang: str = "zh",
    *,
    data_note: str = "",
) -> Drawing:
    """招商路线图: arrows from the targets' origin cities to the region on the map of China,
    width by number of targets; the side panel ranks origins and target nodes.

    `targets`: the target list (columns as `TARGET_COLUMNS`), or None / empty before any
    exists — then the map says 暂无目标企业."""
    _check_lang(lang)
    regions = _regions_by_code()
    box: Rect = (MARGIN, 8, MARGIN + GEO_MAP_W, 8 + GEO_MAP_H)
    province = region.code[:2] + "0000"
    body, screen = _china_base(box, lang, province)
    body.append(
        f'<rect x="{_n(box[0])}" y="{_n(box[1])}" width="{_n(GEO_MAP_W)}" '
        f'height="{_n(GEO_MAP_H)}" fill="none" stroke="#c9d5e3"/>'
    )
    home_row = regions.get(region.code)
    if home_row is None or home_row["lon"] is None:
        raise ValueError(f"no coordinates for region {region.code}")
    hx, hy = screen.point(float(home_row["lon"]), float(home_row["lat"]))  # type: ignore[arg-type]
    if targets is not None:
        missing = [c for c in TARGET_COLUMNS if c not in targets.columns]
        if missing:
            raise ValueError(f"targets lack columns {missing}")
    empty = targets is None or not targets.height
    origins = pl.DataFrame() if targets is None else target_origins(targets)
    taken: list[Rect] = []
    panel_w = GEO_WIDTH - PANEL_X - MARGIN
    if not empty:
        drawn = origins.head(MAX_ROUTES)
        top = float(drawn["targets"].max() or 1)  # type: ignore[arg-type]
        arrows = ['<g class="routes" fill="none" stroke-linecap="round">']
        heads = ['<g class="arrowheads">']
        dots = ['<g class="origins">']
        points: list[tuple[dict[str, object], float, float, float, int]] = []
        for row in drawn.iter_rows(named=True):
            r = regions.get(row["origin_code"])
            if r is None or r["lon"] is None:
                continue
            ox, oy = screen.point(float(r["lon"]), float(r["lat"]))  # type: ignore[arg-type]
            n = int(row["targets"])
            width = 1.2 + 4.5 * math.sqrt(n / top)
            rad = dot_radius(n, top, 3.0, 9.0)
            points.append((r, ox, oy, rad, n))
            if math.hypot(hx - ox, hy - oy) < 14:  # next door: a dot, no arrow
                continue
            d, (ex, ey), (ux, uy) = _curve(ox, oy, hx, hy, 13)
            arrows.append(
                f'<path class="route" data-origin="{row["origin_code"]}" data-targets="{n}" '
                f'd="{d}" stroke="{ROUTE}" stroke-opacity="0.55" stroke-width="{_n(width)}"/>'
            )
            size = 6 + width * 1.3
            px, py = -uy, ux
            tip = (ex + ux * size * 0.6, ey + uy * size * 0.6)
            left = (ex - ux * size * 0.4 + px * size * 0.5, ey - uy * size * 0.4 + py * size * 0.5)
            right = (ex - ux * size * 0.4 - px * size * 0.5, ey - uy * size * 0.4 - py * size * 0.5)
            heads.append(
                f'<path d="M{_n(tip[0])},{_n(tip[1])}L{_n(left[0])},{_n(left[1])}'
                f'L{_n(right[0])},{_n(right[1])}Z" fill="{ROUTE}" fill-opacity="0.8"/>'
            )
        for r, ox, oy, rad, n in points:
            dots.append(
                f'<circle class="origin" data-code="{r["region_code"]}" data-targets="{n}" '
                f'cx="{_n(ox)}" cy="{_n(oy)}" r="{_n(rad)}" fill="#2563eb" fill-opacity="0.85" '
                f'stroke="#ffffff" stroke-width="1.2"/>'
            )
            taken.append((ox - rad, oy - rad, ox + rad, oy + rad))
        arrows.append("</g>")
        heads.append("</g>")
        dots.append("</g>")
        body.extend(arrows + heads + dots)
    # home marker: a star
    star = []
    for k in range(10):
        ang = -math.pi / 2 + k * math.pi / 5
        rr = 11 if k % 2 == 0 else 4.6
        star.append(f"{_n(hx + rr * math.cos(ang))},{_n(hy + rr * math.sin(ang))}")
    body.append(
        f'<path class="home" d="M{"L".join(star)}Z" fill="{HOME}" stroke="#ffffff" '
        'stroke-width="1.2"/>'
    )
    taken.append((hx - 11, hy - 11, hx + 11, hy + 11))
    bounds = (box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2)
    spot = place_label(hx, hy, 11, region.name, 14, taken, bounds)
    if spot:
        body.append(
            _text(
                spot[0],
                spot[1],
                region.name,
                14,
                fill=HOME,
                weight="700",
                anchor=spot[2],
                halo=True,
                cls="home-label",
            )
        )
    if not empty:
        labels = ['<g class="labels">']
        for r, ox, oy, rad, n in points[:ROUTE_LABELS]:
            name = str(r["name"])
            if str(r["region_code"])[:2] in MUNICIPALITIES:
                name = str(regions[str(r["region_code"])[:2] + "0000"]["name"])
            text = f"{name} {n}"
            spot = place_label(ox, oy, rad, text, 12, taken, bounds)
            if spot:
                labels.append(
                    _text(
                        spot[0],
                        spot[1],
                        text,
                        12,
                        fill="#1e3a8a",
                        weight="700",
                        anchor=spot[2],
                        halo=True,
                        cls="origin-label",
                    )
                )
        labels.append("</g>")
        body.extend(labels)
    else:
        msg = _t("暂无目标企业", "No target firms yet", lang)
        hint = _t(
            "生成招商目标清单后，此图显示目标企业来源地 → 本地的招商路线",
            "Once a target list exists, this map shows the routes from the targets' origins",
            lang,
        )
        cx, cy = (box[0] + box[2]) / 2, box[1] + GEO_MAP_H * 0.42
        w = max(text_width(msg, 20), text_width(hint, 12)) + 40
        body.append(
            f'<rect x="{_n(cx - w / 2)}" y="{_n(cy - 30)}" width="{_n(w)}" height="62" rx="8" '
            'fill="#ffffff" fill-opacity="0.94" stroke="#c9d5e3"/>'
        )
        body.append(_text(cx, cy, msg, 20, fill=HEAD, weight="700", anchor="middle", cls="empty"))
        body.append(_text(cx, cy + 21, hint, 12, fill=MUTED, anchor="middle"))

    # side panel
    py = box[1]
    if empty:
        body.append(
            _text(
                PANEL_X,
                py + 14,
                _t("目标企业来源地", "Where the targets are", lang),
                14,
                fill=HEAD,
                weight="700",
            )
        )
        body.append(
            _text(PANEL_X, py + 40, _t("暂无目标企业", "No target firms yet", lang), 12, fill=MUTED)
        )
        py += 60
    else:
        assert targets is not None
        names = {n.id: (n.name_zh if lang == "zh" else n.name_en) for n in chain.nodes}
        rows = []
        for row in origins.head(PANEL_ROWS).iter_rows(named=True):
            label = origin_label(str(row["origin_code"]), regions)
            rows.append((label, float(row["targets"]), f"{int(row['targets'])}"))
        more = origins.height - len(rows)
        note = _t(f"另有 {more} 个来源地", f"{more} more origins", lang) if more > 0 else ""
        panel, py = _bar_panel(
            PANEL_X,
            py,
            panel_w,
            _t("目标企业来源地", "Where the targets are", lang),
            rows,
            "#2563eb",
            note,
        )
        body.extend(panel)
        py += 14
        by_node = (
            targets.group_by("node_id")
            .agg(pl.len().alias("n"))
            .sort(["n", "node_id"], descending=[True, False])
        )
        node_rows = [
            (names.get(nid, nid), float(n), f"{n}") for nid, n in by_node.head(6).iter_rows()
        ]
        panel, py = _bar_panel(
            PANEL_X, py, panel_w, _t("目标环节", "Target nodes", lang), node_rows, "#0f8a5f"
        )
        body.extend(panel)
        py += 10
        n_prov = targets["province_code"].n_unique()
        body.append(
            _text(
                PANEL_X,
                py + 12,
                _t(
                    f"共 {targets.height:,} 家目标企业，来自 {origins.height} 个城市、{n_prov} 个省份",
                    f"{targets.height:,} targets from {origins.height} cities in {n_prov} provinces",
                    lang,
                ),
                11.5,
                fill=INK,
            )
        )
        py += 22
    py += 8
    body.append(_text(PANEL_X, py + 12, _t("图例", "Legend", lang), 13, fill=HEAD, weight="700"))
    py += 22
    body.append(
        f'<path d="M{_n(PANEL_X)},{_n(py + 8)}H{_n(PANEL_X + 34)}" stroke="{ROUTE}" '
        'stroke-opacity="0.55" stroke-width="4"/>'
    )
    body.append(
        _text(
            PANEL_X + 42,
            py + 12,
            _t("招商路线（线宽 = 目标企业数）", "route (width = number of targets)", lang),
            12,
            fill=INK,
        )
    )
    py += 22
    body.append(
        f'<circle cx="{_n(PANEL_X + 17)}" cy="{_n(py + 8)}" r="6" fill="#2563eb" '
        'fill-opacity="0.85"/>'
    )
    body.append(_text(PANEL_X + 42, py + 12, _t("来源城市", "origin city", lang), 12, fill=INK))
    py += 22
    body.append(
        f'<path d="M{_n(PANEL_X + 17)},{_n(py)}L{_n(PANEL_X + 20)},{_n(py + 6)}'
        f"L{_n(PANEL_X + 27)},{_n(py + 6)}L{_n(PANEL_X + 21)},{_n(py + 10)}"
        f"L{_n(PANEL_X + 23)},{_n(py + 17)}L{_n(PANEL_X + 17)},{_n(py + 13)}"
        f"L{_n(PANEL_X + 11)},{_n(py + 17)}L{_n(PANEL_X + 13)},{_n(py + 10)}"
        f'L{_n(PANEL_X + 7)},{_n(py + 6)}L{_n(PANEL_X + 14)},{_n(py + 6)}Z" fill="{HOME}"/>'
    )
    body.append(_text(PANEL_X + 42, py + 13, region.name, 12, fill=INK))

    heading = _t(
        f"{region.full_name}·{chain.name_zh}产业链招商路线图",
        f"{chain.name_en}: investment routes — {region.full_name}",
        lang,
    )
    sub = _t(
        f"箭头由目标企业所在城市指向本地；只画目标最多的 {MAX_ROUTES} 个来源城市",
        f"Arrows run from the cities where the targets are to the region; the {MAX_ROUTES} "
        "largest origins are drawn",
        lang,
    )
    return _document(
        "investment-route",
        GEO_WIDTH,
        GEO_MAP_H + 16,
        body,
        Frame(heading, sub, _source(lang, data_note, True)),
        lang,
    )


# ---------------------------------------------------------------- the maps as SVG strings


def panorama_map(chain: Chain, lang: str = "zh", *, title: bool = True, data_note: str = "") -> str:
    """产业链全景图 as an SVG document (see `panorama_drawing`)."""
    return panorama_drawing(chain, lang, data_note=data_note).svg(title)


def status_map(
    chain: Chain, diagnosis: Diagnosis, lang: str = "zh", *, title: bool = True, data_note: str = ""
) -> str:
    """本地现状图 as an SVG document (see `status_drawing`)."""
    return status_drawing(chain, diagnosis, lang, data_note=data_note).svg(title)


def distribution_map(
    county_firms: pl.DataFrame,
    region: RegionRef,
    chain: Chain,
    lang: str = "zh",
    *,
    title: bool = True,
    data_note: str = "",
) -> str:
    """企业分布图 as an SVG document (see `distribution_drawing`)."""
    return distribution_drawing(county_firms, region, chain, lang, data_note=data_note).svg(title)


def technology_map(
    chain: Chain,
    diagnosis: Diagnosis | None = None,
    lang: str = "zh",
    *,
    title: bool = True,
    data_note: str = "",
) -> str:
    """技术路线图 as an SVG document (see `technology_drawing`)."""
    return technology_drawing(chain, diagnosis, lang, data_note=data_note).svg(title)


def investment_route_map(
    targets: pl.DataFrame | None,
    region: RegionRef,
    chain: Chain,
    lang: str = "zh",
    *,
    title: bool = True,
    data_note: str = "",
) -> str:
    """招商路线图 as an SVG document (see `investment_route_drawing`)."""
    return investment_route_drawing(targets, region, chain, lang, data_note=data_note).svg(title)
