"""`chainatlas` command line: a thin shell over the services (DESIGN §8)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chainatlas.atlas.model import Chain
from chainatlas.settings import Settings

app = typer.Typer(
    help="chainatlas — 产业链图谱、企业归链与区域诊断 / industrial-chain atlas and diagnosis",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
chains_app = typer.Typer(help="产业链图谱 / chain templates", no_args_is_help=True)
ingest_app = typer.Typer(help="导入数据 / load data into the warehouse", no_args_is_help=True)
app.add_typer(chains_app, name="chains")
app.add_typer(ingest_app, name="ingest")

console = Console()
err_console = Console(stderr=True)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    xlsx = "xlsx"
    html = "html"


def fail(message: str, code: int = 1) -> None:
    """One-line reason on stderr and a non-zero exit code."""
    err_console.print(f"[bold red]错误 / error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings() -> Settings:
    return Settings()


def _atlas(chains_dir: Path | None = None) -> dict[str, Chain]:
    from chainatlas.atlas import AtlasError, load_atlas

    extra = chains_dir or settings().chains_dir
    try:
        return load_atlas([extra] if extra else [])
    except AtlasError as exc:
        for issue in exc.issues:
            err_console.print(str(issue), highlight=False, soft_wrap=True)
        fail(f"{len(exc.issues)} 处模板错误 / template error(s)")
        raise  # unreachable


ChainsDir = Annotated[
    Path | None,
    typer.Option(
        "--chains-dir", help="自定义模板目录 / your own templates (add or override by id)"
    ),
]


@chains_app.command("list")
def chains_list(
    fmt: Annotated[ListFormat, typer.Option("--format")] = ListFormat.table,
    chains_dir: ChainsDir = None,
) -> None:
    """列出产业链 / list the chains of the atlas."""
    from chainatlas.atlas.export import chain_summary

    rows = [chain_summary(c) for c in _atlas(chains_dir).values()]
    if fmt is ListFormat.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "产业链", "chain", "类别", "环节 nodes", "供应关系 edges")
    for r in rows:
        table.add_row(
            r["id"], r["name_zh"], r["name_en"], r["category"], str(r["nodes"]), str(r["edges"])
        )
    console.print(table)


@chains_app.command("show")
def chains_show(
    chain_id: str,
    fmt: Annotated[ListFormat, typer.Option("--format")] = ListFormat.table,
    chains_dir: ChainsDir = None,
) -> None:
    """显示一条产业链 / show one chain's nodes and edges."""
    from chainatlas.atlas.export import chain_to_dict

    atlas = _atlas(chains_dir)
    if chain_id not in atlas:
        fail(f"没有产业链 {chain_id} / no chain {chain_id}; try `chainatlas chains list`")
    data = chain_to_dict(atlas[chain_id])
    if fmt is ListFormat.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{data['name_zh']}[/] / {data['name_en']}  ({data['id']})")
    table = Table("层 layer", "阶段 stage", "id", "环节", "行业代码 codes", "关键词 include")
    for n in sorted(data["nodes"], key=lambda n: (n["layer"], n["stage"])):
        table.add_row(
            str(n["layer"]),
            n["stage"],
            n["id"],
            n["name_zh"],
            ",".join(n["industry_codes"]),
            "、".join(n["include"][:6]),
        )
    console.print(table)
    edges = Table("供应方 supplier", "→ 需求方 customer", "物流 flow", "回用 recycling")
    for e in data["edges"]:
        edges.add_row(e["supplier"], e["customer"], e["flow"], "♻" if e["recycling"] else "")
    console.print(edges)


@chains_app.command("validate")
def chains_validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="模板文件或目录 / files or directories")
    ] = None,
) -> None:
    """校验模板 / validate templates (the shipped library plus the given files or directories)."""
    from chainatlas.atlas import AtlasError, load_atlas, parse_template
    from chainatlas.atlas.loader import check_alignments

    issues = []
    dirs = [p for p in (paths or []) if p.is_dir()]
    files = [p for p in (paths or []) if not p.is_dir()]
    try:
        atlas = load_atlas(dirs)
    except AtlasError as exc:
        issues.extend(exc.issues)
        atlas = {}
    for f in files:
        if not f.exists():
            fail(f"文件不存在 / no such file: {f}")
        try:
            chain = parse_template(f.read_text("utf-8"), str(f))
            atlas[chain.id] = chain
        except AtlasError as exc:
            issues.extend(exc.issues)
    if files and not issues:
        issues.extend(check_alignments(atlas))
    for issue in issues:
        err_console.print(str(issue), highlight=False, soft_wrap=True)
    if issues:
        fail(f"{len(issues)} 处模板错误 / template error(s)")
    console.print(f"[green]✓[/] {len(atlas)} 条产业链校验通过 / chains valid")


@app.command()
def synth(
    enterprises: Annotated[
        int, typer.Option("--enterprises", "-n", help="企业数 / number of firms")
    ] = 100_000,
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 42,
    out: Annotated[Path, typer.Option("--out", help="输出目录 / output directory")] = Path(
        "synthetic"
    ),
) -> None:
    """生成合成数据（已标注为合成）/ generate a labelled synthetic national population."""
    from chainatlas.services.data import run_synth

    with err_console.status("生成合成数据 / generating synthetic data…"):
        summary = run_synth(enterprises, seed, out, _atlas())
    print(json.dumps(summary, ensure_ascii=False, indent=2))


@ingest_app.command("enterprises")
def ingest_enterprises(
    file: Path,
    errors: Annotated[Path | None, typer.Option(help="错误文件路径 / error file path")] = None,
) -> None:
    """导入企业（校验、规范化、归链，原子写入）/ load enterprises atomically."""
    from chainatlas.services.data import ingest_file

    with err_console.status("校验、归链、写入 / validating, classifying, loading…"):
        summary = ingest_file(settings(), _atlas(), file, "enterprises", errors)
    print(json.dumps(summary, ensure_ascii=False, indent=2))


@ingest_app.command("links")
def ingest_links(
    file: Path,
    errors: Annotated[Path | None, typer.Option(help="错误文件路径 / error file path")] = None,
) -> None:
    """导入供应关系 / load supply links atomically."""
    from chainatlas.services.data import ingest_file

    with err_console.status("校验、写入 / validating, loading…"):
        summary = ingest_file(settings(), _atlas(), file, "links", errors)
    print(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command()
def reclassify() -> None:
    """模板变更后重新归链 / re-classify the whole warehouse after the atlas changed."""
    from chainatlas.services.diagnosis import open_warehouse
    from chainatlas.services.load import reclassify_all

    atlas = _atlas()
    with (
        err_console.status("重新归链 / re-classifying…"),
        open_warehouse(settings(), read_only=False) as wh,
    ):
        result = reclassify_all(wh, atlas, settings().classify)
    summary = {
        "enterprises": result.loaded,
        "assignments": result.assignments,
        "seconds": round(result.seconds, 2),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command("classify")
def classify_cmd(
    input: Annotated[Path, typer.Option("--input", "-i", help="企业文件 / enterprise file")],
    output: Annotated[Path, typer.Option("--output", "-o", help="归链结果 (.csv/.parquet/.json)")],
    errors: Annotated[Path | None, typer.Option(help="错误文件路径 / error file path")] = None,
) -> None:
    """对企业文件归链（不入库）/ classify an enterprise file without loading it."""
    from chainatlas.services.data import classify_file

    with err_console.status("归链 / classifying…"):
        summary = classify_file(settings(), _atlas(), input, output, errors)
    print(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command()
def evaluate(
    labelled: Annotated[
        Path | None, typer.Option("--set", help="标注集 / labelled set (default: shipped)")
    ] = None,
    fmt: Annotated[ListFormat, typer.Option("--format")] = ListFormat.table,
) -> None:
    """评估归链准确率 / precision, recall and F1 per chain on the labelled set."""
    from chainatlas.services.evaluation import evaluate_labelled, render_evaluation

    report = evaluate_labelled(_atlas(), labelled, settings().classify)
    if fmt is ListFormat.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        console.print(render_evaluation(report))


@app.command()
def diagnose(
    region: Annotated[str, typer.Option("--region", "-r", help="行政区划代码 / region code")],
    chain: Annotated[str, typer.Option("--chain", "-c", help="产业链 id / chain id")],
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="输出文件 / output file")] = None,
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
) -> None:
    """区域产业链诊断 / diagnose a region's chain: missing, weak, strong, break, lead firms."""
    from chainatlas.services.diagnosis import run_diagnosis, write_diagnosis

    atlas = _atlas()
    if chain not in atlas:
        fail(f"没有产业链 {chain} / no chain {chain}; try `chainatlas chains list`")
    diagnosis = run_diagnosis(settings(), atlas[chain], region)
    if fmt is ReportFormat.table and out is None:
        from chainatlas.briefing.table import diagnosis_table

        console.print(diagnosis_table(diagnosis))
        return
    if fmt is ReportFormat.xlsx and out is None:
        fail("xlsx 需要 --out 文件 / xlsx needs --out FILE")
    text = write_diagnosis(diagnosis, atlas[chain], fmt.value, out, lang)
    if out is None:
        sys.stdout.write(text)
    else:
        err_console.print(f"已写入 / written: {out}")


@app.command()
def demo(
    enterprises: Annotated[int, typer.Option("--enterprises", "-n")] = 300_000,
    out: Annotated[Path | None, typer.Option("--out", help="简报目录 / briefing directory")] = None,
    region: Annotated[str | None, typer.Option("--region")] = None,
    seed: Annotated[int, typer.Option()] = 20251,
) -> None:
    """从零生成演示数据与诊断简报 / build the demo warehouse and a diagnosis briefing."""
    from chainatlas.services.demo import run_demo

    s = settings()
    with err_console.status("构建演示仓库与简报 / building the demo warehouse and briefing…"):
        result = run_demo(s, _atlas(), enterprises, seed, region or s.demo_region, out)
    console.print(result.render())
    print("简报文件 / briefing files:")
    for path in result.files:
        print(f"  {path}")


def main() -> None:
    """Entry point: known errors become one line and exit code 1, not a traceback."""
    from chainatlas.atlas import AtlasError

    try:
        app()
    except AtlasError as exc:
        for issue in exc.issues:
            err_console.print(str(issue), highlight=False, soft_wrap=True)
        err_console.print("[bold red]错误 / error:[/] 模板无效 / invalid template(s)")
        sys.exit(1)
    except Exception as exc:
        if hasattr(exc, "message_zh") or isinstance(exc, (ValueError, FileNotFoundError)):
            err_console.print(f"[bold red]错误 / error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(1)
        raise
