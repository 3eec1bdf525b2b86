"""Chain map (产业链图谱) as one self-contained, deterministic SVG.

Layout (hand-made, layered / Sugiyama style):

- columns: `layers(chain)` (longest path over supply edges, recycling edges left out); a
  source node (no supplier) is pulled right next to its first customer so that side inputs
  (equipment, services) do not draw long edges across the map;
- horizontal bands (swim lanes), one per stage: 上游 / 中游 / 下游 / 配套服务 (support in
  its own band), labelled in a header strip on the left;
- within a band × column cell, nodes are ordered by the barycentre of their neighbours
  (alternating sweeps; the ordering with the fewest crossings is kept);
- supply edges are cubic curves with arrowheads between spread ports; an edge spanning
  several columns is routed through free gaps of the columns it passes; recycling edges are
  dashed, orthogonal, and run through a channel above (or below) the bands so the loop shows.

The SVG carries no time stamp and iterates only in chain order: the same input gives the
same bytes.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from xml.sax.saxutils import escape, quoteattr

from chainatlas.atlas.graph import layers
from chainatlas.atlas.model import Chain, Edge
from chainatlas.diagnose.model import DiagnosedNode, Diagnosis

FONT_FAMILY = (
    "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','Microsoft YaHei',"
    "'PingFang SC','WenQuanYi Micro Hei',sans-serif"
)

STAGE_ORDER: tuple[str, ...] = ("upstream", "midstream", "downstream", "support")
STAGE_NAMES: dict[str, tuple[str, str]] = {
    "upstream": ("上游", "Upstream"),
    "midstream": ("中游", "Midstream"),
    "downstream": ("下游", "Downstream"),
    "support": ("配套服务", "Support"),
}
STATUS_ORDER: tuple[str, ...] = ("missing", "weak", "present", "strong")
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "missing": ("缺链", "Missing"),
    "weak": ("弱链", "Weak"),
    "present": ("一般", "Present"),
    "strong": ("强链", "Strong"),
    "break": ("断链", "Break"),
}


@dataclass(frozen=True)
class StatusStyle:
    fill: str
    stroke: str
    text: str
    dash: str | None = None


STATUS_STYLES: dict[str, StatusStyle] = {
    "missing": StatusStyle("#ffffff", "#9aa3ae", "#6b7280", "5 3"),
    "weak": StatusStyle("#fdebc4", "#d18b0f", "#5a3b00"),
    "present": StatusStyle("#dcebfb", "#4a86c8", "#12355b"),
    "strong": StatusStyle("#d2efdb", "#2e9656", "#0e3f22"),
}
NEUTRAL_STYLE = StatusStyle("#ffffff", "#64748b", "#1f2937")
BREAK_COLOUR = "#d62828"
EDGE_COLOUR = "#6b7785"
EDGE_FADED = "#b9c0c8"
RECYCLE_COLOUR = "#0f8a5f"
LANE_FILLS = ("#f5f8fc", "#fbfcfe")
STRIP_FILL = "#e6edf6"
STRIP_TEXT = "#1d3a5f"

# ---------------------------------------------------------------- text measurement


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Approximate advance width in px for Noto Sans CJK (CJK = 1 em, Latin ≈ 0.3–0.85 em)."""
    total = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 1.0
        elif ch == " ":
            total += 0.26
        elif ch in "il.,:;'|!·":
            total += 0.3
        elif ch in "()[]/-":
            total += 0.36
        elif ch in "mwMW":
            total += 0.86
        elif ch.isupper():
            total += 0.66
        elif ch.isdigit():
            total += 0.56
        else:
            total += 0.55
    return total * size * (1.06 if bold else 1.0)


_BREAK_AFTER = "、/，,;；与及和-"
_NO_LINE_START = "）)、，,。；;:：·"
_NO_LINE_END = "（("


def _is_wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def _truncate(text: str, max_width: float, size: float, bold: bool) -> str:
    if text_width(text, size, bold=bold) <= max_width:
        return text
    while text and text_width(text + "…", size, bold=bold) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap_label(
    text: str, max_width: float, size: float, *, max_lines: int = 2, bold: bool = False
) -> list[str]:
    """Wrap a node name on at most `max_lines` lines, preferring breaks before a parenthesis
    or after 、/与; CJK may break between any two characters, Latin only at spaces.
    Overflow of the last line ends in an ellipsis."""
    if text_width(text, size, bold=bold) <= max_width or max_lines <= 1:
        return [_truncate(text, max_width, size, bold)]
    if not _is_wide(text):
        words = text.split(" ")
        lines: list[str] = []
        current = ""
        for i, word in enumerate(words):
            trial = f"{current} {word}".strip()
            if current and text_width(trial, size, bold=bold) > max_width:
                lines.append(current)
                current = word
                if len(lines) == max_lines - 1:
                    current = " ".join(words[i:])
                    break
            else:
                current = trial
        lines.append(current)
        return [_truncate(line, max_width, size, bold) for line in lines[:max_lines]]
    # CJK: fewest lines that fit, then cheapest breaks (before a parenthesis or after 、 is
    # free, a plain break costs a little, a break inside parentheses more), then balance.
    penalty: dict[int, float] = {}
    depth = 0
    for i in range(1, len(text)):
        prev, nxt = text[i - 1], text[i]
        depth += 1 if prev in "（(" else -1 if prev in "）)" else 0
        if nxt in _NO_LINE_START or prev in _NO_LINE_END:
            continue
        if prev.isascii() and nxt.isascii() and prev.isalnum() and nxt.isalnum():
            continue
        free = nxt in "（(" or prev in _BREAK_AFTER
        penalty[i] = (0.0 if free else 0.15 * max_width) + (0.25 * max_width if depth > 0 else 0)
    n = len(text)
    ends = [*sorted(penalty), n]

    @cache
    def best(start: int, lines_left: int) -> tuple[float, tuple[int, ...]] | None:
        """Cheapest split of text[start:] into at most `lines_left` lines (ends of lines)."""
        if text_width(text[start:], size, bold=bold) <= max_width:
            return (max_width, (n,))
        if lines_left <= 1:
            return None
        found: tuple[float, tuple[int, ...]] | None = None
        for end in ends:
            if end <= start or end == n:
                continue
            width = text_width(text[start:end], size, bold=bold)
            if width > max_width:
                break
            rest = best(end, lines_left - 1)
            if rest is None:
                continue
            cost = max_width + penalty[end] + 0.2 * (max_width - width) + rest[0]
            if found is None or cost < found[0]:
                found = (cost, (end, *rest[1]))
        return found

    split = best(0, max_lines)
    if split is None:  # too long even on max_lines: fill greedily, cut the last line
        filled: list[str] = []
        start = 0
        while len(filled) < max_lines - 1 and start < n:
            end = start + 1
            while end < n and text_width(text[start : end + 1], size, bold=bold) <= max_width:
                end += 1
            if end < n and text[end] in _NO_LINE_START and end - start > 1:
                end -= 1
            filled.append(text[start:end])
            start = end
        return [*filled, _truncate(text[start:], max_width, size, bold)]
    out, start = [], 0
    for end in split[1]:
        out.append(text[start:end])
        start = end
    return out


# ---------------------------------------------------------------- geometry


@dataclass
class Box:
    id: str
    lane: int
    col: int
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True)
class Geometry:
    box_w: float
    box_h: float
    gap_x: float
    gap_y: float
    name_size: float
    name_line: float
    max_lines: int
    stat_size: float
    lane_pad: float
    strip_w: float
    margin: float = 14.0


@dataclass
class Lane:
    stage: str
    rows: int
    top: float = 0.0
    height: float = 0.0


@dataclass
class Layout:
    geo: Geometry
    boxes: dict[str, Box]
    lanes: list[Lane]
    n_cols: int
    width: float = 0.0
    height: float = 0.0
    lanes_top: float = 0.0
    lanes_bottom: float = 0.0
    labels: dict[str, list[str]] = field(default_factory=dict)
    label_sizes: dict[str, float] = field(default_factory=dict)

    def col_left(self, col: int) -> float:
        return self.geo.margin + self.geo.strip_w + 14 + col * (self.geo.box_w + self.geo.gap_x)

    def col_right(self, col: int) -> float:
        return self.col_left(col) + self.geo.box_w


def _columns(chain: Chain) -> dict[str, int]:
    """layers(chain), sources pulled next to their first customer, compacted to 0..k."""
    layer = layers(chain)
    has_supplier = {e.customer for e in chain.edges if not e.recycling}
    succ: dict[str, list[str]] = defaultdict(list)
    for e in chain.edges:
        if not e.recycling:
            succ[e.supplier].append(e.customer)
    for n in chain.node_ids:
        if n not in has_supplier and succ[n]:
            layer[n] = min(layer[m] for m in succ[n]) - 1
    used = sorted(set(layer.values()))
    index = {v: i for i, v in enumerate(used)}
    return {n: index[layer[n]] for n in chain.node_ids}


def _lane_order(chain: Chain) -> list[str]:
    stages: list[str] = [n.stage for n in chain.nodes]
    known = [s for s in STAGE_ORDER if s in stages]
    extra = [s for s in dict.fromkeys(stages) if s not in STAGE_ORDER]
    return known + extra


def _segments_cross(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> bool:
    def orient(px: float, py: float, qx: float, qy: float, rx: float, ry: float) -> float:
        return (qx - px) * (ry - py) - (qy - py) * (rx - px)

    x1, y1, x2, y2 = a
    x3, y3, x4, y4 = b
    d1 = orient(x3, y3, x4, y4, x1, y1)
    d2 = orient(x3, y3, x4, y4, x2, y2)
    d3 = orient(x1, y1, x2, y2, x3, y3)
    d4 = orient(x1, y1, x2, y2, x4, y4)
    return d1 * d2 < 0 and d3 * d4 < 0


def _geometry(chain: Chain, lang: str, with_stats: bool) -> Geometry:
    zh = lang == "zh"
    strip_labels = [STAGE_NAMES.get(s, (s, s))[0 if zh else 1] for s in _lane_order(chain)]
    strip_w = max(64.0, max(text_width(t, 14, bold=True) for t in strip_labels) + 22)
    name_size = 13.0 if zh else 12.0
    name_line = 15.5 if zh else 14.0
    max_lines = 3
    box_w = 158.0 if zh else 162.0
    return Geometry(
        box_w=box_w,
        box_h=0.0,
        gap_x=54.0,
        gap_y=18.0,
        name_size=name_size,
        name_line=name_line,
        max_lines=max_lines,
        stat_size=10.5,
        lane_pad=12.0,
        strip_w=strip_w,
    )


def layout(
    chain: Chain, lang: str = "zh", *, with_stats: bool = False, title: bool = True
) -> Layout:
    """Place boxes: columns by layer, bands by stage, barycentre order within a cell."""
    geo = _geometry(chain, lang, with_stats)
    zh = lang == "zh"
    labels: dict[str, list[str]] = {}
    label_sizes: dict[str, float] = {}
    for n in chain.nodes:
        # a name that does not fit at the base size is set a little smaller before it is cut
        for size in (geo.name_size, geo.name_size * 0.92, geo.name_size * 0.85):
            wrapped = wrap_label(
                n.name_zh if zh else n.name_en,
                geo.box_w - 16,
                size,
                max_lines=geo.max_lines,
                bold=True,
            )
            if not wrapped[-1].endswith("…"):
                break
        labels[n.id], label_sizes[n.id] = wrapped, size
    lines = max((len(v) for v in labels.values()), default=1)
    box_h = 14 + lines * geo.name_line + (14 if with_stats else 0)
    box_h = max(box_h, 44.0)
    geo = Geometry(**{**geo.__dict__, "box_h": box_h})

    cols = _columns(chain)
    lane_stages = _lane_order(chain)
    lane_of = {n.id: lane_stages.index(n.stage) for n in chain.nodes}
    cells: dict[tuple[int, int], list[str]] = defaultdict(list)
    for n in chain.nodes:
        cells[(lane_of[n.id], cols[n.id])].append(n.id)
    n_cols = max(cols.values(), default=0) + 1
    lanes = [
        Lane(stage=s, rows=max([len(v) for (ln, _), v in cells.items() if ln == i] or [1]))
        for i, s in enumerate(lane_stages)
    ]
    boxes = {
        n.id: Box(n.id, lane_of[n.id], cols[n.id], w=geo.box_w, h=geo.box_h) for n in chain.nodes
    }
    out = Layout(
        geo=geo, boxes=boxes, lanes=lanes, n_cols=n_cols, labels=labels, label_sizes=label_sizes
    )

    recycling = [e for e in chain.edges if e.recycling]
    top = geo.margin + (34.0 if title else 0.0)
    out.lanes_top = top  # provisional, refined once channels are known
    pitch = geo.box_h + geo.gap_y

    def place() -> None:
        y = out.lanes_top
        for lane in lanes:
            lane.top = y
            lane.height = geo.lane_pad * 2 + lane.rows * pitch - geo.gap_y
            y += lane.height
        out.lanes_bottom = y
        for (ln, col), ids in cells.items():
            lane = lanes[ln]
            offset = (lane.rows - len(ids)) / 2
            for i, nid in enumerate(ids):
                b = boxes[nid]
                b.x = out.col_left(col)
                b.y = lane.top + geo.lane_pad + (offset + i) * pitch

    place()
    flow = [e for e in chain.edges if not e.recycling]
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for e in flow:
        preds[e.customer].append(e.supplier)
        succs[e.supplier].append(e.customer)
    original = {nid: i for i, nid in enumerate(chain.node_ids)}

    def crossings() -> int:
        segs = [
            (
                boxes[e.supplier].right,
                boxes[e.supplier].cy,
                boxes[e.customer].x,
                boxes[e.customer].cy,
            )
            for e in flow
        ]
        return sum(
            _segments_cross(segs[i], segs[j])
            for i in range(len(segs))
            for j in range(i + 1, len(segs))
        )

    def sweep(forward: bool) -> None:
        order = range(n_cols) if forward else range(n_cols - 1, -1, -1)
        for col in order:
            for key in sorted(k for k in cells if k[1] == col):
                ids = cells[key]
                neighbours = preds if forward else succs

                def bary(nid: str, nb: dict[str, list[str]] = neighbours) -> tuple[float, int]:
                    ys = [boxes[m].cy for m in nb[nid]]
                    return (sum(ys) / len(ys) if ys else boxes[nid].cy, original[nid])

                cells[key] = sorted(ids, key=bary)
            place()

    best = (crossings(), {k: list(v) for k, v in cells.items()})
    for i in range(8):
        sweep(forward=i % 2 == 0)
        c = crossings()
        if c < best[0]:
            best = (c, {k: list(v) for k, v in cells.items()})
    cells.clear()
    cells.update(best[1])
    # an end of a recycling edge moves to the outer side of its cell when that makes it the
    # outermost box of its column, so the dashed loop can enter or leave it vertically
    place()
    for e in recycling:
        up = _channel_side(e, boxes) == "top"
        for nid in (e.supplier, e.customer):
            b = boxes[nid]
            key = (b.lane, b.col)
            others = [
                k for k in cells if k[1] == b.col and (k[0] < b.lane if up else k[0] > b.lane)
            ]
            if not any(cells[k] for k in others):
                cells[key].remove(nid)
                if up:
                    cells[key].insert(0, nid)
                else:
                    cells[key].append(nid)

    channel_h = 30.0
    n_top = sum(1 for e in recycling if _channel_side(e, boxes) == "top")
    n_bottom = len(recycling) - n_top
    out.lanes_top = top + n_top * channel_h
    place()
    legend_h = 46.0
    out.height = out.lanes_bottom + n_bottom * channel_h + legend_h + geo.margin
    out.width = out.col_right(n_cols - 1) + geo.gap_x / 2 + 26 + geo.margin
    return out


def _channel_side(e: Edge, boxes: dict[str, Box]) -> str:
    s, t = boxes[e.supplier], boxes[e.customer]
    # crude first guess from the provisional layout: go round the side nearer to both ends
    return "top" if s.cy + t.cy <= 2 * _mid_y(boxes) else "bottom"


def _mid_y(boxes: dict[str, Box]) -> float:
    tops = [b.y for b in boxes.values()]
    bottoms = [b.bottom for b in boxes.values()]
    return (min(tops) + max(bottoms)) / 2 if tops else 0.0


# ---------------------------------------------------------------- routing


@dataclass
class Route:
    edge: Edge
    d: str
    faded: bool = False
    label_at: tuple[float, float] | None = None


def _f(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


MAX_SPREAD_PORTS = 5


def _spread(centre: float, count: int, span: float) -> list[float]:
    """Port positions along a box side; beyond MAX_SPREAD_PORTS the edges meet in one port
    (one arrowhead) instead of a comb of overlapping arrowheads."""
    if count <= 1 or count > MAX_SPREAD_PORTS:
        return [centre] * count
    step = min(11.0, span / (count - 1))
    return [centre + (i - (count - 1) / 2) * step for i in range(count)]


def _column_free_y(
    lay: Layout, col: int, want: float, used: list[float], badged: set[str]
) -> float:
    """The y nearest to `want` in column `col` that clears every box (and 断链 badge)."""
    margin = 4.0
    blocked = sorted(
        (b.y - margin - (9 if b.id in badged else 0), b.bottom + margin)
        for b in lay.boxes.values()
        if b.col == col
    )
    lo_all, hi_all = lay.lanes_top + 4, lay.lanes_bottom - 4
    free: list[tuple[float, float]] = []
    cursor = lo_all
    for lo, hi in blocked:
        if lo > cursor:
            free.append((cursor, lo))
        cursor = max(cursor, hi)
    if cursor < hi_all:
        free.append((cursor, hi_all))
    free = [(a, b) for a, b in free if b - a >= 4] or [(lo_all, hi_all)]
    best_y = want
    best_cost: float | None = None
    for a, b in free:
        y = min(max(want, a), b)
        for _ in range(4):  # keep parallel detours apart
            if all(abs(y - u) >= 6 for u in used):
                break
            y = y + 6 if y + 6 <= b else y - 6
        cost = abs(y - want)
        if best_cost is None or cost < best_cost:
            best_y, best_cost = y, cost
    used.append(best_y)
    return best_y


def _rounded_polyline(points: list[tuple[float, float]], radius: float = 10.0) -> str:
    if not points:
        return ""
    parts = [f"M{_f(points[0][0])},{_f(points[0][1])}"]
    for i in range(1, len(points) - 1):
        (x0, y0), (x1, y1), (x2, y2) = points[i - 1], points[i], points[i + 1]
        d1 = abs(x1 - x0) + abs(y1 - y0)
        d2 = abs(x2 - x1) + abs(y2 - y1)
        r = min(radius, d1 / 2, d2 / 2)
        ax = x1 - (x1 - x0) / d1 * r if d1 else x1
        ay = y1 - (y1 - y0) / d1 * r if d1 else y1
        bx = x1 + (x2 - x1) / d2 * r if d2 else x1
        by = y1 + (y2 - y1) / d2 * r if d2 else y1
        parts.append(f"L{_f(ax)},{_f(ay)}Q{_f(x1)},{_f(y1)} {_f(bx)},{_f(by)}")
    parts.append(f"L{_f(points[-1][0])},{_f(points[-1][1])}")
    return "".join(parts)


def route_edges(
    chain: Chain, lay: Layout, missing: set[str], badged: set[str] | None = None
) -> list[Route]:
    boxes = lay.boxes
    flow = [e for e in chain.edges if not e.recycling]
    recycling = [e for e in chain.edges if e.recycling]

    def column_clear(b: Box, upward: bool) -> bool:
        return not any(
            o.col == b.col and o.id != b.id and (o.y < b.y if upward else o.y > b.y)
            for o in boxes.values()
        )

    # recycling: decide side and ports first, so they share the side ports with supply edges
    plans: list[tuple[Edge, str, bool, bool]] = []
    for e in recycling:
        side = _channel_side(e, boxes)
        up = side == "top"
        s, t = boxes[e.supplier], boxes[e.customer]
        plans.append((e, side, column_clear(s, up), column_clear(t, up)))

    out_ports: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    in_ports: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    for i, e in enumerate(flow):
        out_ports[e.supplier].append((boxes[e.customer].cy, boxes[e.customer].col, f"f{i}"))
        in_ports[e.customer].append((boxes[e.supplier].cy, -boxes[e.supplier].col, f"f{i}"))
    for i, (e, side, src_clear, tgt_clear) in enumerate(plans):
        far = -1e6 if side == "top" else 1e6
        if not src_clear:
            out_ports[e.supplier].append((far, 0, f"r{i}"))
        if not tgt_clear:
            in_ports[e.customer].append((far, 0, f"r{i}"))
    port_y: dict[tuple[str, str], float] = {}
    for nid, items in out_ports.items():
        b = boxes[nid]
        for (_, _, key), y in zip(
            sorted(items), _spread(b.cy, len(items), b.h * 0.62), strict=True
        ):
            port_y[("out", key)] = y
    for nid, items in in_ports.items():
        b = boxes[nid]
        for (_, _, key), y in zip(
            sorted(items), _spread(b.cy, len(items), b.h * 0.62), strict=True
        ):
            port_y[("in", key)] = y

    routes: list[Route] = []
    used: dict[int, list[float]] = defaultdict(list)
    half = lay.geo.gap_x / 2
    for i, e in enumerate(flow):
        s, t = boxes[e.supplier], boxes[e.customer]
        x0, y0 = s.right, port_y[("out", f"f{i}")]
        x3, y3 = t.x, port_y[("in", f"f{i}")]
        pts: list[tuple[float, float]] = [(x0, y0)]
        for col in range(s.col + 1, t.col):
            frac = (lay.col_left(col) + lay.geo.box_w / 2 - x0) / ((x3 - x0) or 1)
            y = _column_free_y(lay, col, y0 + (y3 - y0) * frac, used[col], badged or set())
            pts += [(lay.col_left(col) - 4, y), (lay.col_right(col) + 4, y)]
        pts.append((x3, y3))
        d = f"M{_f(pts[0][0])},{_f(pts[0][1])}"
        for j in range(0, len(pts) - 1, 2):
            (ax, ay), (bx, by) = pts[j], pts[j + 1]
            k = min(half, (bx - ax) / 2)
            d += f"C{_f(ax + k)},{_f(ay)} {_f(bx - k)},{_f(by)} {_f(bx)},{_f(by)}"
            if j + 2 < len(pts):
                d += f"L{_f(pts[j + 2][0])},{_f(pts[j + 2][1])}"
        routes.append(Route(e, d, faded=e.supplier in missing or e.customer in missing))

    top_k = bottom_k = 0
    for i, (e, side, src_clear, tgt_clear) in enumerate(plans):
        s, t = boxes[e.supplier], boxes[e.customer]
        if side == "top":
            ch = lay.lanes_top - 12 - 30 * top_k
            top_k += 1
        else:
            ch = lay.lanes_bottom + 12 + 30 * bottom_k
            bottom_k += 1
        offset = 8.0 * i
        if src_clear:
            sx = s.cx + 18
            pts = [(sx, s.y if side == "top" else s.bottom), (sx, ch)]
        else:
            gx = s.right + half - 10 + offset
            pts = [(s.right, port_y[("out", f"r{i}")]), (gx, port_y[("out", f"r{i}")]), (gx, ch)]
        if tgt_clear:
            tx = t.cx - 18 if t.col >= s.col else t.cx + 18
            pts += [(tx, ch), (tx, t.y if side == "top" else t.bottom)]
        else:
            gx = t.x - half + 10 - offset
            pts += [(gx, ch), (gx, port_y[("in", f"r{i}")]), (t.x, port_y[("in", f"r{i}")])]
        xs = [p[0] for p in pts if p[1] == ch]
        label_at = ((min(xs) + max(xs)) / 2, ch - 5) if xs else None
        routes.append(Route(e, _rounded_polyline(pts), label_at=label_at))
    return routes


# ---------------------------------------------------------------- drawing


def _attr(value: str) -> str:
    return quoteattr(value)


def _fmt_lq(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _stats_line(n: DiagnosedNode, lang: str) -> str:
    status = STATUS_NAMES[n.status][0 if lang == "zh" else 1]
    count = f"{n.firm_count:,}家" if lang == "zh" else f"{n.firm_count:,} firms"
    if n.status == "missing":
        return f"{count} · {status}"
    return f"{count} · LQ {_fmt_lq(n.lq)} · {status}"


def _node_title(name: str, n: DiagnosedNode | None, lang: str) -> str:
    if n is None:
        return name
    extra = f"；{STATUS_NAMES['break'][0]}" if lang == "zh" else "; break"
    cap = (
        f"注册资本 {n.capital:,.0f} 万元"
        if lang == "zh"
        else f"registered capital {n.capital:,.0f} (10k CNY)"
    )
    return f"{name} — {_stats_line(n, lang)}; {cap}" + (extra if n.is_break else "")


def _legend(
    lay: Layout, y: float, with_status: bool, lang: str, pid: str, with_recycling: bool = True
) -> list[str]:
    zh = lang == "zh"
    out = [f'<g class="legend" transform="translate({_f(lay.col_left(0))},{_f(y)})">']
    x = 0.0
    size = 11.5

    def label(text: str, at: float) -> str:
        return (
            f'<text x="{_f(at)}" y="4" font-size="{size}" fill="#334155" '
            f'dominant-baseline="middle">{escape(text)}</text>'
        )

    if with_status:
        for key in (*STATUS_ORDER, "break"):
            zh_name, en_name = STATUS_NAMES[key]
            text = f"{zh_name} {en_name}" if zh else f"{en_name} {zh_name}"
            if key == "break":
                out.append(
                    f'<rect x="{_f(x)}" y="-5" width="26" height="18" rx="4" '
                    f'fill="#ffffff" stroke="{BREAK_COLOUR}" stroke-width="3"/>'
                )
            else:
                st = STATUS_STYLES[key]
                dash = f' stroke-dasharray="{st.dash}"' if st.dash else ""
                out.append(
                    f'<rect x="{_f(x)}" y="-5" width="26" height="18" rx="4" '
                    f'fill="{st.fill}" stroke="{st.stroke}" stroke-width="1.4"{dash}/>'
                )
            out.append(label(text, x + 33))
            x += 33 + text_width(text, size) + 22
        x += 10
    for kind in ("supply", "recycling") if with_recycling else ("supply",):
        if kind == "supply":
            text = "供应关系 Supply" if zh else "Supply 供应关系"
            out.append(
                f'<path d="M{_f(x)},4H{_f(x + 30)}" stroke="{EDGE_COLOUR}" '
                f'stroke-width="1.5" fill="none" marker-end="url(#{pid}-arrow)"/>'
            )
        else:
            text = "循环利用 Recycling" if zh else "Recycling 循环利用"
            out.append(
                f'<path d="M{_f(x)},4H{_f(x + 30)}" stroke="{RECYCLE_COLOUR}" '
                f'stroke-width="1.6" stroke-dasharray="6 4" fill="none" '
                f'marker-end="url(#{pid}-arrow-recycle)"/>'
            )
        out.append(label(text, x + 40))
        x += 40 + text_width(text, size) + 22
    out.append("</g>")
    return out


def chain_map_svg(
    chain: Chain, diagnosis: Diagnosis | None = None, lang: str = "zh", *, title: bool = True
) -> str:
    """The chain map as a standalone SVG document string.

    With a diagnosis, each box shows the local firm count, the LQ (firm count) and the
    status, filled by status; break nodes get a thick red border and a 断链 badge.
    `title=False` leaves out the heading line (the HTML page has its own).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    if diagnosis is not None and diagnosis.chain.id != chain.id:
        raise ValueError(f"diagnosis is for chain {diagnosis.chain.id!r}, not {chain.id!r}")
    zh = lang == "zh"
    diag = {n.id: n for n in diagnosis.nodes} if diagnosis else {}
    lay = layout(chain, lang, with_stats=diagnosis is not None, title=title)
    missing = {k for k, n in diag.items() if n.status == "missing"}
    routes = route_edges(chain, lay, missing, {k for k, n in diag.items() if n.is_break})
    geo = lay.geo
    pid = "ca-" + "".join(ch if ch.isalnum() else "-" for ch in chain.id)
    heading = f"{chain.name_zh}产业链图谱" if zh else f"{chain.name_en} — chain map"
    if diagnosis is not None:
        heading += (
            f" · {diagnosis.region.full_name}"
            if zh
            else f" · {diagnosis.region.full_name} ({diagnosis.region.code})"
        )
    w, h = lay.width, lay.height
    o: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chain-map" viewBox="0 0 {_f(w)} {_f(h)}" '
        f'width="{_f(w)}" height="{_f(h)}" role="img" aria-labelledby="{pid}-title" '
        f"font-family={_attr(FONT_FAMILY)} lang={_attr('zh-CN' if zh else 'en')}>",
        f'<title id="{pid}-title">{escape(heading)}</title>',
        "<defs>",
    ]
    for suffix, colour in (("", EDGE_COLOUR), ("-faded", EDGE_FADED), ("-recycle", RECYCLE_COLOUR)):
        o.append(
            f'<marker id="{pid}-arrow{suffix}" viewBox="0 0 10 10" refX="9.5" refY="5" '
            f'markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" '
            f'orient="auto"><path d="M0,0L10,5L0,10z" fill="{colour}"/></marker>'
        )
    o.append("</defs>")
    o.append(f'<rect width="{_f(w)}" height="{_f(h)}" fill="#ffffff"/>')
    if title:
        o.append(
            f'<text x="{_f(geo.margin)}" y="{_f(geo.margin + 16)}" font-size="17" '
            f'font-weight="700" fill="#0f2a4a">{escape(heading)}</text>'
        )

    # bands
    strip_x = geo.margin
    band_x = strip_x + geo.strip_w
    band_w = w - geo.margin - band_x
    for i, lane in enumerate(lay.lanes):
        zh_name, en_name = STAGE_NAMES.get(lane.stage, (lane.stage, lane.stage))
        o.append(f'<g class="band" data-stage={_attr(lane.stage)}>')
        o.append(
            f'<rect x="{_f(band_x)}" y="{_f(lane.top)}" width="{_f(band_w)}" '
            f'height="{_f(lane.height)}" fill="{LANE_FILLS[i % 2]}"/>'
        )
        o.append(
            f'<rect x="{_f(strip_x)}" y="{_f(lane.top)}" width="{_f(geo.strip_w)}" '
            f'height="{_f(lane.height)}" fill="{STRIP_FILL}"/>'
        )
        if i:
            o.append(
                f'<path d="M{_f(strip_x)},{_f(lane.top)}H{_f(w - geo.margin)}" '
                f'stroke="#c9d5e3" stroke-width="1"/>'
            )
        cx = strip_x + geo.strip_w / 2
        cy = lane.top + lane.height / 2
        if zh:
            o.append(
                f'<text x="{_f(cx)}" y="{_f(cy - 4)}" text-anchor="middle" font-size="15" '
                f'font-weight="700" fill="{STRIP_TEXT}">{escape(zh_name)}</text>'
            )
            o.append(
                f'<text x="{_f(cx)}" y="{_f(cy + 13)}" text-anchor="middle" '
                f'font-size="9.5" fill="#5b708a">{escape(en_name)}</text>'
            )
        else:
            o.append(
                f'<text x="{_f(cx)}" y="{_f(cy - 4)}" text-anchor="middle" font-size="14" '
                f'font-weight="700" fill="{STRIP_TEXT}">{escape(en_name)}</text>'
            )
            o.append(
                f'<text x="{_f(cx)}" y="{_f(cy + 13)}" text-anchor="middle" '
                f'font-size="10" fill="#5b708a">{escape(zh_name)}</text>'
            )
        o.append("</g>")
    o.append(
        f'<rect x="{_f(strip_x)}" y="{_f(lay.lanes_top)}" width="{_f(w - 2 * geo.margin)}" '
        f'height="{_f(lay.lanes_bottom - lay.lanes_top)}" fill="none" stroke="#c9d5e3"/>'
    )

    # edges
    o.append('<g class="edges" fill="none">')
    for r in routes:
        e = r.edge
        flow = escape(e.flow) if e.flow else ""
        sup, cus = chain.node(e.supplier), chain.node(e.customer)
        tip = f"{sup.name_zh} → {cus.name_zh}" if zh else f"{sup.name_en} → {cus.name_en}"
        tip_text = escape(tip) + (f"：{flow}" if flow else "")
        common = f"data-supplier={_attr(e.supplier)} data-customer={_attr(e.customer)}"
        if e.recycling:
            o.append(
                f'<path class="edge recycling" {common} d="{r.d}" stroke="{RECYCLE_COLOUR}" '
                f'stroke-width="1.8" stroke-dasharray="7 4" '
                f'marker-end="url(#{pid}-arrow-recycle)"><title>{tip_text}</title></path>'
            )
            if r.label_at:
                if zh:
                    text = "循环：" + e.flow if e.flow else "循环利用"
                else:
                    text = f"Recycling ({e.flow})" if e.flow else "Recycling"
                o.append(
                    f'<text class="edge-label" x="{_f(r.label_at[0])}" '
                    f'y="{_f(r.label_at[1])}" text-anchor="middle" font-size="11.5" '
                    f'fill="{RECYCLE_COLOUR}" stroke="#ffffff" stroke-width="3" '
                    f'paint-order="stroke">{escape(text)}</text>'
                )
        else:
            colour, marker = (EDGE_FADED, "-faded") if r.faded else (EDGE_COLOUR, "")
            o.append(
                f'<path class="edge supply" {common} d="{r.d}" stroke="{colour}" '
                f'stroke-width="1.4" marker-end="url(#{pid}-arrow{marker})">'
                f"<title>{tip_text}</title></path>"
            )
    o.append("</g>")

    # nodes
    o.append('<g class="nodes">')
    for node in chain.nodes:
        b = lay.boxes[node.id]
        dn = diag.get(node.id)
        style = STATUS_STYLES[dn.status] if dn else NEUTRAL_STYLE
        is_break = bool(dn and dn.is_break)
        status = dn.status if dn else "none"
        name = node.name_zh if zh else node.name_en
        cls = f"node status-{status}" + (" break" if is_break else "")
        o.append(
            f'<g class="{cls}" data-node={_attr(node.id)} data-status="{status}" '
            f'data-break="{"true" if is_break else "false"}">'
        )
        o.append(f"<title>{escape(_node_title(name, dn, lang))}</title>")
        stroke, sw = (BREAK_COLOUR, 3.2) if is_break else (style.stroke, 1.4)
        dash = f' stroke-dasharray="{style.dash}"' if style.dash and not is_break else ""
        o.append(
            f'<rect class="box" x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" '
            f'height="{_f(b.h)}" rx="8" fill="{style.fill}" stroke="{stroke}" '
            f'stroke-width="{sw}"{dash}/>'
        )
        lines = lay.labels[node.id]
        size = lay.label_sizes.get(node.id, geo.name_size)
        step = geo.name_line * size / geo.name_size
        block = len(lines) * step + (14 if dn else 0)
        ty = b.cy - block / 2 + step * 0.78
        for line in lines:
            o.append(
                f'<text x="{_f(b.cx)}" y="{_f(ty)}" text-anchor="middle" '
                f'font-size="{_f(size)}" font-weight="700" '
                f'fill="{style.text}">{escape(line)}</text>'
            )
            ty += step
        if dn:
            stats = _truncate(_stats_line(dn, lang), b.w - 10, geo.stat_size, False)
            o.append(
                f'<text class="stats" x="{_f(b.cx)}" y="{_f(ty + 1)}" '
                f'text-anchor="middle" font-size="{_f(geo.stat_size)}" '
                f'fill="{style.text}" fill-opacity="0.85">{escape(stats)}</text>'
            )
        if is_break:
            label = STATUS_NAMES["break"][0] if zh else "BREAK"
            bw = text_width(label, 10.5, bold=True) + 14
            bx, by = b.right - bw + 6, b.y - 9
            o.append(
                f'<g class="badge"><rect x="{_f(bx)}" y="{_f(by)}" width="{_f(bw)}" '
                f'height="17" rx="8.5" fill="{BREAK_COLOUR}"/>'
                f'<text x="{_f(bx + bw / 2)}" y="{_f(by + 12.5)}" text-anchor="middle" '
                f'font-size="10.5" font-weight="700" fill="#ffffff">{escape(label)}</text>'
                "</g>"
            )
        o.append("</g>")
    o.append("</g>")
    legend_y = h - geo.margin - 18
    o.extend(
        _legend(
            lay, legend_y, diagnosis is not None, lang, pid, any(e.recycling for e in chain.edges)
        )
    )
    o.append("</svg>")
    return "\n".join(o) + "\n"
