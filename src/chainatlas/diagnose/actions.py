"""Recommended action kinds for a diagnosed chain (建链 / 补链 / 延链 / 强链)."""

from __future__ import annotations

from chainatlas.atlas.model import Chain
from chainatlas.diagnose.model import Action, DiagnosedNode

BUILD_BELOW = 0.2


def _names(nodes: list[DiagnosedNode]) -> str:
    return "、".join(n.name_zh for n in nodes)


def _names_en(nodes: list[DiagnosedNode]) -> str:
    return ", ".join(n.name_en for n in nodes)


def _intact(n: DiagnosedNode) -> bool:
    return n.break_evidence is not None and n.break_evidence.verdict == "intact"


def _evidence_zh(nodes: list[DiagnosedNode]) -> str:
    parts = [
        f"{n.name_zh}本地配套率{n.break_evidence.local_sourcing_rate:.0%}"
        for n in nodes
        if n.break_evidence is not None
        and n.break_evidence.verdict == "confirmed"
        and n.break_evidence.local_sourcing_rate is not None
    ]
    return f"（供应关系印证：{'、'.join(parts)}，主要从外地采购）" if parts else ""


def _evidence_en(nodes: list[DiagnosedNode]) -> str:
    parts = [
        f"{n.name_en} {n.break_evidence.local_sourcing_rate:.0%} sourced locally"
        for n in nodes
        if n.break_evidence is not None
        and n.break_evidence.verdict == "confirmed"
        and n.break_evidence.local_sourcing_rate is not None
    ]
    return f" (supply links confirm: {', '.join(parts)})" if parts else ""


def recommend_actions(chain: Chain, nodes: list[DiagnosedNode]) -> list[Action]:
    """build when the chain is barely present; fill at breaks (unless the supply links show
    the local flow intact there); extend into missing nodes next to held ones; strengthen
    weak nodes that are not breaks, and breaks evidenced intact."""
    held = {n.id for n in nodes if n.status in ("present", "strong")}
    actions: list[Action] = []
    present_weight = sum(n.weight for n in nodes if n.status != "missing")
    total_weight = sum(n.weight for n in nodes) or 1.0
    if present_weight / total_weight < BUILD_BELOW:
        actions.append(
            Action(
                kind="build",
                node_ids=[n.id for n in nodes if n.status == "missing"],
                reason_zh=f"本地仅覆盖{present_weight / total_weight:.0%}的环节，需整体谋划建链",
                reason_en=f"only {present_weight / total_weight:.0%} of the chain is present; build the chain",
            )
        )
    fill = [n for n in nodes if n.is_break and not _intact(n)]
    if fill:
        actions.append(
            Action(
                kind="fill",
                node_ids=[n.id for n in fill],
                reason_zh=f"{_names(fill)}处上下游均有本地企业而本环节缺失或薄弱，链条在此断开"
                + _evidence_zh(fill),
                reason_en=f"the local flow is cut at {_names_en(fill)}: suppliers and customers are "
                "present on both sides" + _evidence_en(fill),
            )
        )
    extend = [
        n
        for n in nodes
        if n.status == "missing" and not n.is_break and (set(n.suppliers) | set(n.customers)) & held
    ]
    if extend:
        actions.append(
            Action(
                kind="extend",
                node_ids=[n.id for n in extend],
                reason_zh=f"{_names(extend)}缺失，但与本地已有环节直接相连，可向上下游延伸",
                reason_en=f"{_names_en(extend)} missing next to locally held nodes: extend up or "
                "downstream",
            )
        )
    strengthen = [n for n in nodes if (n.status == "weak" and not n.is_break) or _intact(n)]
    if strengthen:
        actions.append(
            Action(
                kind="strengthen",
                node_ids=[n.id for n in strengthen],
                reason_zh=f"{_names(strengthen)}已有企业但集聚度低于全国平均（区位熵<1），需培育壮大",
                reason_en=f"{_names_en(strengthen)} present but below the national share (LQ < 1): "
                "strengthen",
            )
        )
    return actions
