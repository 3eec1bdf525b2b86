"""Load and validate chain templates (YAML) with file, line and field in every error.

Validation runs in two passes: the published JSON Schema (`schema.json`) for shape, then
the semantic rules a schema cannot say — unique ids, known parents and edge ends, and no
supply cycle unless its closing edge is marked `recycling: true`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from chainatlas.atlas.errors import AtlasError, TemplateIssue
from chainatlas.atlas.graph import find_cycle
from chainatlas.atlas.model import Alignment, Chain, Edge, Node

Path_ = tuple[str | int, ...]


@cache
def template_schema() -> dict[str, Any]:
    """The published JSON Schema of a chain template."""
    text = resources.files("chainatlas.atlas").joinpath("schema.json").read_text("utf-8")
    return dict(json.loads(text))


def _record_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    """Record the line (1-based) of every path in the composed YAML tree."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*path, i), lines)


def _line(lines: dict[Path_, int], path: Path_) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _field(path: Path_, data: dict[str, Any]) -> str:
    """Readable field name: nodes[3](cane_planting).stage."""
    parts: list[str] = []
    cursor: Any = data
    for p in path:
        if isinstance(p, int):
            label = f"[{p}]"
            try:
                cursor = cursor[p]
                if isinstance(cursor, dict) and isinstance(cursor.get("id"), str):
                    label += f"({cursor['id']})"
            except (IndexError, KeyError, TypeError):
                cursor = None
            parts.append(label)
        else:
            parts.append(("." if parts else "") + p)
            cursor = cursor.get(p) if isinstance(cursor, dict) else None
    return "".join(parts) or "(document)"


def parse_template(text: str, source: str) -> Chain:
    """Parse one template; raise AtlasError listing every problem found."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise AtlasError(
            [
                TemplateIssue(
                    source, line, "(yaml)", f"YAML 语法错误：{exc}", f"YAML syntax error: {exc}"
                )
            ]
        ) from exc
    if root is None:
        raise AtlasError([TemplateIssue(source, 1, "(document)", "模板为空", "template is empty")])
    lines: dict[Path_, int] = {}
    _record_lines(root, (), lines)
    data = yaml.SafeLoader("").construct_document(root)
    issues: list[TemplateIssue] = []

    def issue(path: Path_, zh: str, en: str) -> None:
        issues.append(TemplateIssue(source, _line(lines, path), _field(path, data), zh, en))

    if not isinstance(data, dict):
        issue((), "模板必须是映射（键: 值）", "a template must be a mapping")
        raise AtlasError(issues)
    validator = jsonschema.Draft202012Validator(template_schema())
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for extra in sorted(set(err.instance) - allowed):
                issue((*path, extra), f"未知字段 {extra}", f"unknown field {extra}")
            continue
        issue(path, f"不符合模板规范：{err.message}", f"does not match the schema: {err.message}")
    if issues:
        raise AtlasError(issues)

    nodes_raw: list[dict[str, Any]] = data["nodes"]
    seen: dict[str, int] = {}
    for i, n in enumerate(nodes_raw):
        if n["id"] in seen:
            issue(("nodes", i, "id"), f"环节编号 {n['id']} 重复", f"duplicate node id {n['id']}")
        seen.setdefault(n["id"], i)
    for i, n in enumerate(nodes_raw):
        parent = n.get("parent")
        if parent is not None and parent not in seen:
            issue(
                ("nodes", i, "parent"), f"上级环节 {parent} 不存在", f"unknown parent node {parent}"
            )
        if parent == n["id"]:
            issue(("nodes", i, "parent"), "环节不能以自身为上级", "a node cannot be its own parent")
        stray = sorted(set(n.get("defining_codes", [])) - set(n.get("industry_codes", [])))
        if stray:
            issue(
                ("nodes", i, "defining_codes"),
                f"决定性行业代码须同时列在 industry_codes 中：{','.join(stray)}",
                f"defining codes must also be listed in industry_codes: {','.join(stray)}",
            )
        overlap = set(n.get("include", [])) & set(n.get("exclude", []))
        if overlap:
            word = "、".join(sorted(overlap))
            issue(
                ("nodes", i, "exclude"),
                f"关键词同时出现在包含与排除中：{word}",
                f"keywords both included and excluded: {word}",
            )
    edges_raw: list[dict[str, Any]] = data["edges"]
    pairs: set[tuple[str, str]] = set()
    for j, e in enumerate(edges_raw):
        for end in ("supplier", "customer"):
            if e[end] not in seen:
                issue(
                    ("edges", j, end),
                    f"供应关系引用了不存在的环节 {e[end]}",
                    f"edge refers to unknown node {e[end]}",
                )
        if e["supplier"] == e["customer"]:
            issue(
                ("edges", j), "供应关系的两端不能是同一环节", "an edge cannot join a node to itself"
            )
        if (e["supplier"], e["customer"]) in pairs:
            issue(("edges", j), "供应关系重复", "duplicate edge")
        pairs.add((e["supplier"], e["customer"]))
    if issues:
        raise AtlasError(issues)

    forward = [(e["supplier"], e["customer"]) for e in edges_raw if not e.get("recycling", False)]
    cycle = find_cycle(list(seen), forward)
    if cycle:
        closing = (cycle[-2], cycle[-1])
        j = next(k for k, e in enumerate(edges_raw) if (e["supplier"], e["customer"]) == closing)
        loop = " → ".join(cycle)
        issue(
            ("edges", j),
            f"供应关系成环：{loop}；如为副产品回用，请在闭合边上标注 recycling: true",
            f"supply cycle {loop}; mark the closing edge `recycling: true` if it returns "
            "by-products upstream",
        )
        raise AtlasError(issues)

    align = data.get("aligns_to")
    return Chain(
        id=data["id"],
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        category=data.get("category", ""),
        description_zh=data.get("description_zh", ""),
        description_en=data.get("description_en", ""),
        level=data.get("level", "national"),
        region_code=data.get("region_code"),
        aligns_to=Alignment(
            align["chain"],
            align.get("level", "province"),
            dict(align.get("nodes", {})),
            _line(lines, ("aligns_to",)),
        )
        if align
        else None,
        nodes=tuple(
            Node(
                id=n["id"],
                name_zh=n["name_zh"],
                name_en=n["name_en"],
                stage=n["stage"],
                parent=n.get("parent"),
                industry_codes=tuple(n.get("industry_codes", [])),
                defining_codes=tuple(n.get("defining_codes", [])),
                include=tuple(n.get("include", [])),
                exclude=tuple(n.get("exclude", [])),
                products=tuple(n.get("products", [])),
                technologies=tuple(n.get("technologies", [])),
                weight=float(n.get("weight", 1.0)),
                description_zh=n.get("description_zh", ""),
            )
            for n in nodes_raw
        ),
        edges=tuple(
            Edge(e["supplier"], e["customer"], e.get("flow", ""), bool(e.get("recycling", False)))
            for e in edges_raw
        ),
        source=source,
    )


def _template_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml"})


def builtin_dir() -> Path:
    return Path(str(resources.files("chainatlas.atlas").joinpath("chains")))


def load_atlas(extra_dirs: Iterable[Path] = ()) -> dict[str, Chain]:
    """Load the shipped library, then user directories; a user template overrides by id.

    Every file is checked; all problems of all files are raised together. Alignments are
    checked last, against the whole atlas.
    """
    chains: dict[str, Chain] = {}
    issues: list[TemplateIssue] = []
    for directory in (builtin_dir(), *map(Path, extra_dirs)):
        if not directory.is_dir():
            issues.append(
                TemplateIssue(
                    str(directory),
                    1,
                    "(directory)",
                    "模板目录不存在",
                    "template directory does not exist",
                )
            )
            continue
        for path in _template_files(directory):
            try:
                chain = parse_template(path.read_text("utf-8"), str(path))
            except AtlasError as exc:
                issues.extend(exc.issues)
                continue
            except UnicodeDecodeError:
                issues.append(
                    TemplateIssue(
                        str(path),
                        1,
                        "(file)",
                        "模板文件须为 UTF-8 编码",
                        "template files must be UTF-8",
                    )
                )
                continue
            chains[chain.id] = chain
    issues.extend(check_alignments(chains))
    if issues:
        raise AtlasError(issues)
    return dict(sorted(chains.items()))


def check_alignments(chains: dict[str, Chain]) -> list[TemplateIssue]:
    """A chain aligned to a chain above must name an existing chain and existing nodes."""
    issues: list[TemplateIssue] = []
    for chain in chains.values():
        a = chain.aligns_to
        if a is None:
            continue
        target = chains.get(a.chain)
        if target is None:
            issues.append(
                TemplateIssue(
                    chain.source,
                    a.line,
                    "aligns_to.chain",
                    f"对齐的上级产业链 {a.chain} 不存在",
                    f"aligned chain {a.chain} does not exist",
                )
            )
            continue
        for local, upper in a.nodes.items():
            if local not in chain.node_ids:
                issues.append(
                    TemplateIssue(
                        chain.source,
                        a.line,
                        f"aligns_to.nodes.{local}",
                        f"本链没有环节 {local}",
                        f"no node {local} in this chain",
                    )
                )
            if upper not in target.node_ids:
                issues.append(
                    TemplateIssue(
                        chain.source,
                        a.line,
                        f"aligns_to.nodes.{local}",
                        f"上级产业链 {a.chain} 没有环节 {upper}",
                        f"chain {a.chain} has no node {upper}",
                    )
                )
    return issues
