"""The demo profile: a city populated so that its diagnosis shows every node status.

The profile is data (DEMO_PROFILE). Chains it lists get the statuses given; chains of the
atlas it does not list get statuses derived from their graph (`auto_statuses`), so every
chain shows strong, present, weak, missing and at least one break (DESIGN §6).

Exactness: the generator draws (node, region) cells by systematic sampling, so the city's
count on a node is its expected count ±1 per chunk. The city's share on each node is solved
here so that its location quotient lands on a target per status (`TARGET_LQ`), with the
city's own firms included in the national denominator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainatlas.synth.catalogue import NodeCatalogue

STATUSES = ("strong", "present", "weak", "missing")
# Whole-firm quotas put each LQ inside these safe intervals (class bounds 1 and 1.5, with
# ~12% margins for the noise of national counts, e.g. random second nodes).
SAFE_LQ = {"strong": (1.7, np.inf), "present": (1.1, 1.38), "weak": (1e-9, 0.85)}
CLASS_ORDER = ("weak", "present", "strong")
AUTO_PATTERN = ("weak", "present", "missing", "weak", "strong", "missing", "weak", "present")
TARGET_LQ = {"missing": 0.0, "weak": 0.55, "present": 1.22}
MIN_STRONG_LQ = 2.0  # strong means LQ ≥ 1.5; keep a margin
FLOOR_STRONG_LQ = 1.65
FLOOR_LQ = {"weak": 0.3, "present": 1.05}  # how far weak/present may bend if strong cannot absorb

DEMO_PROFILE: dict[str, Any] = {
    "city": "450400",  # 梧州市
    "city_share": 0.015,  # of all firms (≈4,500 at n = 300k)
    "chain_share": 0.75,  # of the city's firms on a chain (nationally ON_CHAIN_SHARE)
    # Fixed shares of the city's chain firms; other chains share the rest by national size.
    "chain_mix": {"sugarcane": 0.2, "green_home": 0.16, "tcm_ethnic_medicine": 0.2},
    "statuses": {
        "sugarcane": {
            "strong": ["cane_planting", "raw_sugar_milling", "cane_seedling", "bagasse_tableware"],
            "present": [
                "cane_agri_inputs",
                "sugar_equipment",
                "sugar_trade_logistics",
                "sugar_food_beverage",
                "bagasse_power",
                "cane_farm_services",
            ],
            "weak": ["cane_machinery", "refined_sugar", "molasses_ethanol", "sugar_testing_rd"],
            # filter mud: milling supplies it, it returns to planting (recycling) → break;
            # bagasse pulp: milling → pulp → tableware → break.
            "missing": [
                "filter_mud_fertiliser",
                "bagasse_pulp_paper",
                "yeast_extract",
                "cane_top_feed",
                "cane_insurance",
            ],
        },
        "green_home": {
            "strong": ["plantation", "logging", "veneer", "plywood"],
            "present": [
                "forest_seedling",
                "sawn_timber",
                "adhesives_resins",
                "solid_wood_furniture",
                "custom_home",
                "wood_doors",
                "home_logistics_ecommerce",
            ],
            # fibreboard: logging → fibreboard → wood doors → weak break.
            "weak": [
                "fibreboard",
                "woodworking_machinery",
                "decor_paper",
                "wood_flooring",
                "panel_furniture",
                "home_design",
                "home_testing",
            ],
            # particleboard: logging → particleboard → custom home → break.
            "missing": [
                "particleboard",
                "wood_coatings",
                "furniture_hardware",
                "wood_residue_recycling",
            ],
        },
        "tcm_ethnic_medicine": {
            "strong": [
                "herb_cultivation",
                "herb_primary_processing",
                "proprietary_cpm",
                "health_food",
            ],
            "present": [
                "herb_seedling",
                "herb_market_trade",
                "decoction_pieces",
                "pharma_wholesale_logistics",
                "tcm_retail_pharmacy",
                "tcm_hospitals",
                "tcm_wellness_tourism",
            ],
            # plant extracts: cultivation → extracts → proprietary medicines → weak break.
            "weak": [
                "plant_extracts",
                "formula_granules",
                "herb_understory_wild",
                "ethnic_medicine",
                "tcm_testing_standards",
                "tcm_rd",
            ],
            # herb residue: proprietary medicines → residue → cultivation (recycling) → break.
            "missing": ["herb_residue", "tcm_machinery", "herbal_cosmetics"],
        },
    },
}


@dataclass(frozen=True)
class ResolvedProfile:
    city: str
    city_share: float
    chain_share: float
    status: dict[int, str]  # global node index → status, every node of every chain
    chain_mix: np.ndarray  # (n_chains,) fixed share of the city's chain firms, NaN = by size
    forbidden_codes: frozenset[str]  # codes of missing nodes: no firm of the city carries them
    forbidden_tokens: frozenset[str]  # their keywords, products, technologies: no text has them
    notes: tuple[str, ...]  # what the atlas made the profile skip or derive

    def nodes_with(self, status: str) -> list[int]:
        return [n for n, s in self.status.items() if s == status]


def resolve_profile(profile: Mapping[str, Any], catalogue: NodeCatalogue) -> ResolvedProfile:
    """Statuses for every node: explicit where the profile names the node, derived elsewhere."""
    notes: list[str] = []
    status: dict[int, str] = {}
    explicit = profile.get("statuses", {})
    used_codes: set[str] = set()
    forbidden_codes: set[str] = set()
    order = sorted(
        range(len(catalogue.chains)), key=lambda c: (catalogue.chains[c].id not in explicit, c)
    )
    for ci in order:
        chain = catalogue.chains[ci]
        members = [int(n) for n in catalogue.chain_nodes(ci)]
        if chain.id in explicit:
            chain_status = _explicit_statuses(
                explicit[chain.id], chain.id, members, catalogue, notes
            )
        else:
            chain_status = auto_statuses(members, catalogue, used_codes, forbidden_codes)
            notes.append(f"{chain.id}: statuses derived from the chain graph")
        for n, s in chain_status.items():
            codes = set(catalogue.nodes[n].industry_codes)
            (forbidden_codes if s == "missing" else used_codes).update(codes)
        status.update(chain_status)
    for n, s in sorted(status.items()):
        node = catalogue.nodes[n]
        if s != "missing" and node.industry_codes and set(node.industry_codes) <= forbidden_codes:
            notes.append(
                f"{catalogue.chains[catalogue.chain_of[n]].id}.{node.id}: every code "
                "is also a missing node's code; its firms in the city carry none"
            )
    tokens = {
        t
        for n, s in status.items()
        if s == "missing"
        for t in (
            *catalogue.nodes[n].include,
            *catalogue.nodes[n].products,
            *catalogue.nodes[n].technologies,
        )
    }
    mix = profile.get("chain_mix", {})
    return ResolvedProfile(
        city=str(profile["city"]),
        city_share=float(profile["city_share"]),
        chain_share=float(profile.get("chain_share", 0.65)),
        status=status,
        chain_mix=np.array([float(mix.get(c.id, np.nan)) for c in catalogue.chains]),
        forbidden_codes=frozenset(forbidden_codes),
        forbidden_tokens=frozenset(tokens),
        notes=tuple(notes),
    )


def _explicit_statuses(
    lists: Mapping[str, list[str]],
    chain_id: str,
    members: list[int],
    catalogue: NodeCatalogue,
    notes: list[str],
) -> dict[int, str]:
    by_id = {catalogue.nodes[n].id: n for n in members}
    out: dict[int, str] = {}
    for s in STATUSES:
        for node_id in lists.get(s, []):
            if node_id in by_id:
                out[by_id[node_id]] = s
            else:
                notes.append(f"{chain_id}.{node_id}: not in the atlas, ignored")
    for n in members:
        if n not in out:
            out[n] = "present"  # a node added to the template since: harmless default
            notes.append(f"{chain_id}.{catalogue.nodes[n].id}: not in the profile, present")
    if "strong" not in out.values():
        raise ValueError(f"demo profile of {chain_id} needs at least one strong node")
    return out


def auto_statuses(
    members: list[int], catalogue: NodeCatalogue, used_codes: set[str], forbidden_codes: set[str]
) -> dict[int, str]:
    """Statuses from the graph, for a chain the profile does not list.

    Nodes whose every code is already a missing node's code (of a chain resolved earlier)
    are missing too. Then a missing (or weak) node between a strong supplier and a present
    customer makes the break, and the rest follow AUTO_PATTERN in template order — few
    strong nodes, so the city's LQs can reach their targets. A node may be missing only if
    no other node in the city shares its codes.
    """
    member_set = set(members)
    sup: dict[int, list[int]] = {n: [] for n in members}
    cus: dict[int, list[int]] = {n: [] for n in members}
    for a, b in zip(catalogue.edge_supplier, catalogue.edge_customer, strict=True):
        if int(a) in member_set:
            cus[int(a)].append(int(b))
            sup[int(b)].append(int(a))

    def codes(n: int) -> set[str]:
        return set(catalogue.nodes[n].industry_codes)

    def can_be_missing(n: int) -> bool:
        others = {c for m in members if m != n for c in codes(m)}
        return not codes(n) & (used_codes | others)

    status = {n: "missing" for n in members if codes(n) and codes(n) <= forbidden_codes}
    inner = [
        n
        for n in members
        if n not in status
        and set(sup[n]) - set(status)
        and set(cus[n]) - set(status)
        and len(set(sup[n]) | set(cus[n]) - set(status)) > 1
    ]
    if inner:
        missable = [n for n in inner if can_be_missing(n)]
        pick = max(missable or inner, key=lambda n: (len(sup[n]) * len(cus[n]), -n))
        status[pick] = "missing" if missable else "weak"
        supplier = next(m for m in sup[pick] if m not in status)
        status[supplier] = "strong"
        status[next(m for m in cus[pick] if m not in status)] = "present"
    k = 0
    for n in members:
        if n in status:
            continue
        s = AUTO_PATTERN[k % len(AUTO_PATTERN)]
        k += 1
        if s == "missing" and not can_be_missing(n):
            s = "weak"
        status[n] = s
    if "strong" not in status.values():
        status[
            next(n for n in members if status[n] != "missing")
            if any(status[n] != "missing" for n in members)
            else members[0]
        ] = "strong"
    return status


def city_node_shares(
    status: list[str], national: np.ndarray, city_total: float, national_total: float | None = None
) -> np.ndarray:
    """Share of the city's chain firms on each node so that LQ hits the status targets.

    With Y_n the rest of the country on node n, Y its distinct chain firms (default ΣY_n)
    and x the city's chain firms,
    LQ_n = (q_n) / ((Y_n + q_n x) / (Y + x)); so q_n = t_n Y_n / (Y + x (1 − t_n)).
    Strong nodes take the LQ t_s that makes Σ q_n = 1 (t_s ≥ MIN_STRONG_LQ); if even the
    minimum is too much, weak and present bend toward their floors.
    """
    y = np.asarray(national, dtype=np.float64)
    total = float(y.sum() if national_total is None else national_total)
    x = float(city_total)
    strong = np.array([s == "strong" for s in status])
    if not strong.any():
        raise ValueError("a profiled chain needs a strong node")

    def shares(t_strong: float, bend: float) -> np.ndarray:
        t = np.array(
            [
                t_strong
                if s == "strong"
                else TARGET_LQ[s] - bend * (TARGET_LQ[s] - FLOOR_LQ.get(s, TARGET_LQ[s]))
                for s in status
            ]
        )
        return t * y / (total + x * (1.0 - t))

    ceiling = 1.0 + total / x - 1e-9 if x > 0 else 1e9

    def solve(f: Callable[[float], float], lo: float, hi: float) -> float:
        """Root of an increasing f on [lo, hi] by bisection."""
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return 0.5 * (lo + hi)

    if shares(MIN_STRONG_LQ, 0.0).sum() <= 1.0:  # strong absorbs the rest: the usual case
        t = solve(lambda t: shares(t, 0.0).sum() - 1.0, MIN_STRONG_LQ, min(ceiling, 1e6))
        q = shares(t, 0.0)
    elif shares(MIN_STRONG_LQ, 1.0).sum() <= 1.0:  # weak and present bend toward floors
        bend = solve(lambda b: 1.0 - shares(MIN_STRONG_LQ, b).sum(), 0.0, 1.0)
        q = shares(MIN_STRONG_LQ, bend)
    elif shares(FLOOR_STRONG_LQ, 1.0).sum() <= 1.0:  # and strong toward its floor
        t = solve(lambda t: shares(t, 1.0).sum() - 1.0, FLOOR_STRONG_LQ, MIN_STRONG_LQ)
        q = shares(t, 1.0)
    else:
        raise ValueError(
            "demo profile infeasible: strong and present nodes hold too much "
            "of the chain nationally"
        )
    return q / q.sum()


def lq_status(lq: float) -> str:
    """DESIGN §6 status from an LQ (0 firms → missing)."""
    return "missing" if lq <= 0 else "strong" if lq >= 1.5 else "weak" if lq < 1 else "present"


def integer_quotas(
    status: list[str],
    shares: np.ndarray,
    national: np.ndarray,
    city_total: int,
    national_total: float | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Whole firm counts per node near `shares · city_total` whose LQs (against `national`,
    the expected counts elsewhere) lie inside the safe interval of their class.

    A node whose class no whole count reaches (a present node whose single firm is already
    an LQ of 1.4, say) takes the nearest class it can reach safely. Returns the counts and
    the statuses they achieve (equal to `status` whenever the city is big enough).
    """
    y = np.asarray(national, dtype=np.float64)
    y_total = float(y.sum() if national_total is None else national_total)
    missing = np.array(status) == "missing"
    count = np.where(missing, 0, np.maximum(np.rint(shares * city_total), 1)).astype(np.int64)

    def lq_of(c: int, node: int, others: int) -> float:
        x = c + others
        return (c / x) / ((y[node] + c) / (y_total + x))

    for _ in range(20):
        before = count.copy()
        for i, s in enumerate(status):
            if s == "missing":
                continue
            others = int(count.sum() - count[i])
            options = range(1, max(2 * int(count[i]), 8))
            safe = {c: _safe_class(lq_of(c, i, others)) for c in options}
            wanted = [c for c in options if safe[c] == s]
            if wanted:
                count[i] = min(wanted, key=lambda c: abs(c - before[i]))
                continue
            reachable = [c for c in options if safe[c] is not None]
            if reachable:  # the nearest class, then the nearest count
                rank = CLASS_ORDER.index(s)
                count[i] = min(
                    reachable,
                    key=lambda c: (abs(CLASS_ORDER.index(str(safe[c])) - rank), abs(c - before[i])),
                )
        if np.array_equal(before, count):
            break
    x = int(count.sum())
    achieved = [
        "missing" if c == 0 else lq_status((c / x) / ((y[i] + c) / (y_total + x)))
        for i, c in enumerate(count)
    ]
    return count, achieved


def _safe_class(lq: float) -> str | None:
    for name, (low, high) in SAFE_LQ.items():
        if low <= lq <= high:
            return name
    return None
