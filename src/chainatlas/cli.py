"""`chainatlas` command line: a thin shell over the services (DESIGN §8)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
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


# options shared by the analysis commands, declared once
RegionOption = Annotated[str, typer.Option("--region", "-r", help="行政区划代码 / region code")]
ChainOption = Annotated[str, typer.Option("--chain", "-c", help="产业链 id / chain id")]
OutOption = Annotated[Path | None, typer.Option("--out", help="输出文件 / output file")]
LangOption = Annotated[str, typer.Option(help="zh | en")]

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
    snapshot_date: Annotated[
        dt.datetime | None,
        typer.Option(
            "--snapshot-date",
            formats=["%Y-%m-%d"],
            help="文件为所含区县该日的完整登记快照：这些区县库中在营而快照中没有的企业记为当日"
            "注销 / the file is the whole registry of its counties on this date: their stored "
            "active firms missing from it are deregistered on it",
        ),
    ] = None,
) -> None:
    """导入企业（校验、规范化、只对新增和变化的企业归链、增量更新立方体，原子写入）/ load
    enterprises atomically: only new and changed firms are classified, the cube is updated
    incrementally."""
    from chainatlas.services.data import ingest_file

    with err_console.status("校验、归链、写入 / validating, classifying, loading…"):
        summary = ingest_file(
            settings(),
            _atlas(),
            file,
            "enterprises",
            errors,
            snapshot_date=snapshot_date.date() if snapshot_date else None,
        )
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


@ingest_app.command("build")
def ingest_build(
    directory: Annotated[Path, typer.Argument(help="chainatlas build 的输出目录 / build output")],
) -> None:
    """以 chainatlas build 的输出替换仓库（任一引擎）/ make a build's output the warehouse
    (either engine): the CLI and the web read it as if loaded here."""
    from chainatlas.services.build import import_build

    with err_console.status("导入构建结果 / importing the build…"):
        summary = import_build(directory, settings().warehouse_path)
    print(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command()
def build(
    input: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="输入目录 / input directory (enterprises, supply_links Parquet)"
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="输出目录 / output directory")],
    engine: Annotated[str, typer.Option("--engine", help="duckdb | spark")] = "duckdb",
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL (默认 / default local[2])")
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="DuckDB 内存上限，如 8GB，超出部分写入磁盘 / DuckDB memory limit, e.g. 8GB "
            "(spills to disk beyond it)",
        ),
    ] = None,
    targets_top: Annotated[
        int,
        typer.Option(
            "--targets-top",
            help="每个地区×缺失环节写入的目标企业数 / targets written per region × gap node",
        ),
    ] = 10,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="目标企业成长性的计算日期（默认今天）/ date target growth is measured at "
            "(default today)",
        ),
    ] = None,
) -> None:
    """批处理：从 Parquet 构建归链、立方体与供应网络表 / batch build: assignments, cube and
    supply-network tables from Parquet to Parquet, on DuckDB or Spark (docs/scaling.md)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from chainatlas.services.build import ResultOptions, engine_named, resume_dir, run_build

    config = settings()
    results = ResultOptions(
        thresholds=config.status,
        lead_weights=config.lead_firm,
        target_weights=config.targets,
        targets_top=targets_top,
        as_of=as_of.date() if as_of else dt.date.today(),
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"构建 / building ({engine})", total=1.0)

        def progress(fraction: float, stage: str) -> None:
            bar.update(task, completed=fraction, description=f"{engine}: {stage}")

        try:
            result = run_build(
                engine_named(engine),
                input,
                output,
                master=master,
                atlas=_atlas(),
                weights=config.classify,
                results=results,
                memory_limit=memory_limit,
                progress=progress,
            )
        except KeyboardInterrupt:
            if resume_dir(output).exists():
                fail(
                    f"已中断；再次运行同一命令即从中断处继续（{resume_dir(output)}）/ interrupted; "
                    "run the same command again to resume where it stopped",
                    130,
                )
            raise
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


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

    atlas = _atlas()
    report = evaluate_labelled(atlas, labelled, settings().classify)
    if fmt is ListFormat.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for table in render_evaluation(report, {c: chain.name_zh for c, chain in atlas.items()}):
            console.print(table)


@app.command()
def diagnose(
    region: RegionOption,
    chain: ChainOption,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.table,
    out: OutOption = None,
    lang: LangOption = "zh",
    io_z: Annotated[
        Path | None,
        typer.Option("--io-z", help="投入产出表 Z.csv：环节权重取自部门关联 / I-O flows"),
    ] = None,
    io_x: Annotated[
        Path | None, typer.Option("--io-x", help="投入产出表 x.csv / I-O output")
    ] = None,
) -> None:
    """区域产业链诊断 / diagnose a region's chain: missing, weak, strong, break, lead firms."""
    from chainatlas.services.diagnosis import run_diagnosis, write_diagnosis

    atlas = _atlas()
    if chain not in atlas:
        fail(f"没有产业链 {chain} / no chain {chain}; try `chainatlas chains list`")
    if (io_z is None) != (io_x is None):
        fail("--io-z 与 --io-x 须同时给出 / give both --io-z and --io-x")
    io_table = (io_z, io_x) if io_z is not None and io_x is not None else None
    diagnosis = run_diagnosis(settings(), atlas[chain], region, io_table)
    if fmt is ReportFormat.table and out is None:
        from chainatlas.briefing.table import diagnosis_renderables

        for item in diagnosis_renderables(diagnosis, lang):
            console.print(item)
        return
    if fmt is ReportFormat.xlsx and out is None:
        fail("xlsx 需要 --out 文件 / xlsx needs --out FILE")
    text = write_diagnosis(diagnosis, atlas[chain], fmt.value, out, lang)
    if out is None:
        sys.stdout.write(text)
    else:
        err_console.print(f"已写入 / written: {out}")


class AnalysisFormat(StrEnum):
    table = "table"
    json = "json"
    xlsx = "xlsx"


AnalysisFormatOption = Annotated[AnalysisFormat, typer.Option("--format")]


def _emit(
    fmt: AnalysisFormat,
    out: Path | None,
    *,
    table: Callable[[], RenderableType],
    json_text: Callable[[], str],
    xlsx: Callable[[Path], None],
) -> None:
    """Print or write one analysis result: table to the terminal, json to stdout or --out,
    xlsx to --out (required)."""
    if fmt is AnalysisFormat.xlsx and out is None:
        fail("xlsx 需要 --out 文件 / xlsx needs --out FILE")
    if fmt is AnalysisFormat.table:
        console.print(table())
        return
    if out is None:
        sys.stdout.write(json_text())
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt is AnalysisFormat.json:
        out.write_text(json_text(), "utf-8")
    else:
        xlsx(out)
    err_console.print(f"已写入 / written: {out}")


@app.command()
def opportunities(
    region: RegionOption,
    chain: Annotated[
        str | None, typer.Option("--chain", "-c", help="只看一条链 / one chain only")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="前 N 项 / first N")] = 20,
    fmt: AnalysisFormatOption = AnalysisFormat.table,
    out: OutOption = None,
    lang: LangOption = "zh",
) -> None:
    """发展机会：尚未具备的环节与产业链，按可行性与价值排序 / opportunities: nodes and chains
    the region does not hold yet, ranked by feasibility (density) and value (COG, PCI, growth)."""
    from chainatlas.services.opportunities import (
        opportunities_table,
        opportunities_xlsx,
        run_opportunities,
    )

    result = run_opportunities(settings(), _atlas(), region, chain_id=chain, top=top)
    _emit(
        fmt,
        out,
        table=lambda: opportunities_table(result, lang),
        json_text=lambda: result.to_json() + "\n",
        xlsx=lambda path: opportunities_xlsx(result, path, lang),
    )


@app.command()
def trends(
    region: RegionOption,
    chain: ChainOption,
    years: Annotated[int, typer.Option("--years", help="比较年数 / years back")] = 5,
    as_of: Annotated[int | None, typer.Option("--as-of", help="截至年份 / up to year")] = None,
    fmt: AnalysisFormatOption = AnalysisFormat.table,
    out: OutOption = None,
    lang: LangOption = "zh",
) -> None:
    """趋势：新设、注销、净增，LQ 今昔与集群象限 / trends: births, deaths, net change, LQ now vs
    N years ago, cluster quadrant per node."""
    from chainatlas.briefing.analysis import trends_view, trends_xlsx
    from chainatlas.services.trends import region_trends

    result = region_trends(settings(), chain, region, years=years, as_of=as_of, atlas=_atlas())
    _emit(
        fmt,
        out,
        table=lambda: trends_view(result, lang),
        json_text=lambda: result.to_json() + "\n",
        xlsx=lambda path: trends_xlsx(result, path, lang),
    )


class Transform(StrEnum):
    log1p = "log1p"
    raw = "raw"
    symmetric = "symmetric"


@app.command()
def peers(
    region: RegionOption,
    top: Annotated[int, typer.Option("--top", help="前 N 个 / first N")] = 10,
    transform: Annotated[Transform, typer.Option("--transform")] = Transform.log1p,
    fmt: AnalysisFormatOption = AnalysisFormat.table,
    out: OutOption = None,
    lang: LangOption = "zh",
) -> None:
    """相似地区：同级地区中产业结构最相近者（RCA 余弦）/ peer regions: the most similar regions
    of the same level by node profile (cosine on RCA)."""
    from chainatlas.briefing.analysis import peers_view, peers_xlsx
    from chainatlas.services.peers import peer_regions

    result = peer_regions(settings(), region, top=top, transform=transform.value)
    _emit(
        fmt,
        out,
        table=lambda: peers_view(result, lang),
        json_text=lambda: result.to_json() + "\n",
        xlsx=lambda path: peers_xlsx(result, path, lang),
    )


@app.command()
def compare(
    chain: ChainOption,
    regions: Annotated[
        list[str], typer.Option("--region", "-r", help="地区代码，可重复，最多 10 个 / up to 10")
    ],
    fmt: AnalysisFormatOption = AnalysisFormat.table,
    out: OutOption = None,
    lang: LangOption = "zh",
) -> None:
    """地区对比：最多 10 个地区在一条链上并列 / up to 10 regions side by side on one chain."""
    from chainatlas.briefing.analysis import compare_view, compare_xlsx
    from chainatlas.services.peers import compare_regions

    result = compare_regions(settings(), chain, regions, atlas=_atlas())
    _emit(
        fmt,
        out,
        table=lambda: compare_view(result, lang),
        json_text=lambda: result.to_json() + "\n",
        xlsx=lambda path: compare_xlsx(result, path, lang),
    )


@app.command()
def targets(
    region: RegionOption,
    chain: ChainOption,
    node: Annotated[str | None, typer.Option("--node", help="只看一个环节 / one node only")] = None,
    top: Annotated[int, typer.Option("--top", help="每环节前 N 家 / first N per node")] = 20,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="按理由筛选 / filter by reason: partner_referral|relocation|size|tags|growth|fit|distance",
        ),
    ] = None,
    exclude: Annotated[
        Path | None, typer.Option("--exclude", help="已接触企业清单 / contacted firms (uscc)")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="产业转移来源省份，可重复 / source province, repeatable"),
    ] = None,
    each: Annotated[
        str | None,
        typer.Option(
            "--each",
            help="下辖各市或各县的清单（读取导入的 build 结果）/ the lists of every city|county "
            "under the region, from the imported build results",
        ),
    ] = None,
    fmt: AnalysisFormatOption = AnalysisFormat.table,
    out: OutOption = None,
    lang: LangOption = "zh",
) -> None:
    """靶向招商：缺链、弱链、断点环节的目标企业及理由 / targets: firms outside the region for
    each missing, weak or break node, scored with their components and reasons."""
    from chainatlas.services.targets import run_targets, targets_table, targets_xlsx

    s = settings()
    if each is not None:
        live_only = {
            "--top": top != 20,
            "--reason": reason,
            "--exclude": exclude,
            "--source": source,
        }
        given = [name for name, value in live_only.items() if value]
        if given:
            fail(
                f"{'、'.join(given)} 只用于单个地区的清单，--each 读取 build 的批量结果 / "
                f"{', '.join(given)} apply to one region's list; --each reads the build's results"
            )
        _region_lists(region, chain, node, each, fmt, out, lang)
        return
    result = run_targets(
        s,
        _atlas(),
        region,
        chain,
        node_id=node,
        top=top,
        reason=reason,
        exclude_file=exclude,
        weights=s.targets,
        sources=source or None,
    )
    _emit(
        fmt,
        out,
        table=lambda: targets_table(result, lang),
        json_text=lambda: result.to_json() + "\n",
        xlsx=lambda path: targets_xlsx(result, path, lang),
    )


def _region_lists(
    region: str,
    chain_id: str,
    node: str | None,
    level: str,
    fmt: AnalysisFormat,
    out: Path | None,
    lang: str,
) -> None:
    from chainatlas.services.region_lists import (
        region_lists_json,
        region_lists_table,
        region_lists_xlsx,
        run_region_lists,
    )

    atlas = _atlas()
    info, summary, targets = run_region_lists(settings(), atlas, region, chain_id, level, node)
    chain = atlas[chain_id]
    _emit(
        fmt,
        out,
        table=lambda: region_lists_table(chain, region, level, summary, info, lang),
        json_text=lambda: region_lists_json(chain, region, level, node, info, summary, targets),
        xlsx=lambda path: region_lists_xlsx(
            path, chain, region, level, summary, targets, info, lang
        ),
    )


@app.command()
def briefing(
    region: RegionOption,
    chain: ChainOption,
    out: Annotated[Path, typer.Option("--out", help="输出目录 / output directory")],
    maps: Annotated[
        str | None, typer.Option("--maps", help="图，逗号分隔 / maps, comma-separated")
    ] = None,
    lists: Annotated[
        str | None, typer.Option("--lists", help="清单，逗号分隔 / lists, comma-separated")
    ] = None,
    lang: LangOption = "zh",
) -> None:
    """简报包：N 张图、N 张清单（XLSX、PDF、PNG、SVG）/ the briefing pack: maps and lists as
    one workbook, one A4 PDF, and each map as PNG and SVG (docs/briefing.md)."""
    from chainatlas.briefing.pack import DEFAULT_LISTS, DEFAULT_MAPS
    from chainatlas.services.briefing import build_briefing

    def ids(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(x.strip() for x in text.split(",") if x.strip()) if text else default

    with err_console.status("生成简报 / building the briefing pack…"):
        result = build_briefing(
            settings(),
            _atlas(),
            region,
            chain,
            out,
            maps=ids(maps, DEFAULT_MAPS),
            lists=ids(lists, DEFAULT_LISTS),
            lang=lang,
        )
    console.print(result.render())


class DataFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _emit_frame(
    frame: Any,
    fmt: DataFormat,
    out: Path | None,
    *,
    table: Callable[[], RenderableType],
    json_text: Callable[[], str],
) -> None:
    """A data result: table on the terminal, csv or json to stdout or --out."""
    if fmt is DataFormat.table:
        console.print(table())
        return
    text = frame.write_csv() if fmt is DataFormat.csv else json_text()
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, "utf-8")
    err_console.print(f"已写入 / written: {out}")


class TableFormat(StrEnum):
    csv = "csv"
    json = "json"


@app.command()
def complexity(
    input_file: Annotated[Path, typer.Option("--input", "-i", help="长表文件 / long-format file")],
    region_col: Annotated[str, typer.Option("--region-col", help="地区列 / region column")],
    product_col: Annotated[str, typer.Option("--product-col", help="产品列 / product column")],
    value_col: Annotated[str, typer.Option("--value-col", help="数值列 / value column")],
    year_col: Annotated[str | None, typer.Option("--year-col", help="年份列 / year column")] = None,
    rca_threshold: Annotated[float, typer.Option("--rca-threshold")] = 1.0,
    exclude_self: Annotated[
        bool,
        typer.Option(
            "--density-excludes-self", help="密度不含自身 / density without the node itself"
        ),
    ] = False,
    fmt: Annotated[TableFormat, typer.Option("--format")] = TableFormat.csv,
    out: OutOption = None,
) -> None:
    """经济复杂度：RCA、M、多样性、普遍性、ECI、PCI、密度、COI、COG（任意长表）/ economic
    complexity of any long table (trade, employment, firm counts); equal to `ecomplexity`."""
    from chainatlas.services.complexity import run_complexity

    table = run_complexity(
        input_file,
        region_col=region_col,
        product_col=product_col,
        value_col=value_col,
        year_col=year_col,
        rca_threshold=rca_threshold,
        density_excludes_self=exclude_self,
    )
    text = (
        table.write_csv()
        if fmt is TableFormat.csv
        else json.dumps(table.to_dicts(), ensure_ascii=False, indent=1, default=str) + "\n"
    )
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
        err_console.print(f"已写入 / written: {out} ({table.height:,} 行 / rows)")


@app.command("io-linkages")
def io_linkages(
    z: Annotated[Path, typer.Option("--z", help="中间流量矩阵 Z.csv / intermediate flows")],
    x: Annotated[Path, typer.Option("--x", help="总产出 x.csv / total output")],
    fmt: Annotated[DataFormat, typer.Option("--format")] = DataFormat.table,
    out: OutOption = None,
    matrices: Annotated[
        bool, typer.Option("--matrices", help="json 中包含 A、L、B、G / include A, L, B, G in json")
    ] = False,
    lang: LangOption = "zh",
) -> None:
    """投入产出关联：后向/前向关联、关键部门、乘数 / input-output linkages: backward (Leontief)
    and forward (Ghosh), Rasmussen-normalised, key sectors, multipliers (docs/io-tables.md)."""
    from chainatlas.briefing.frames import frame_table
    from chainatlas.services.io_tables import (
        LINKAGE_COLUMNS,
        io_result_dict,
        linkage_display,
        run_io_linkages,
    )

    result = run_io_linkages(z, x)
    _emit_frame(
        result.linkages,
        fmt,
        out,
        table=lambda: frame_table(linkage_display(result, lang), LINKAGE_COLUMNS, lang=lang),
        json_text=lambda: (
            json.dumps(io_result_dict(result, matrices=matrices), ensure_ascii=False, indent=2)
            + "\n"
        ),
    )


@app.command()
def intake(
    file: Annotated[Path, typer.Argument(help="会议报道 (.txt/.md/.html/.htm) / meeting report")],
    fmt: Annotated[ListFormat, typer.Option("--format")] = ListFormat.table,
    published: Annotated[
        str | None,
        typer.Option("--published", help="文章发布日期 YYYY-MM-DD，补全会议年份 / article date"),
    ] = None,
    chains_dir: ChainsDir = None,
) -> None:
    """会议报道 → 会议记录草稿 / meeting report → draft meeting record (to confirm)."""
    from chainatlas.services.intake import draft_json, intake_file, intake_table

    draft = intake_file(file, published=published, atlas=_atlas(chains_dir))
    if fmt is ListFormat.json:
        sys.stdout.write(draft_json(draft))
    else:
        console.print(intake_table(draft))


users_app = typer.Typer(help="用户与令牌 / accounts and API tokens", no_args_is_help=True)
db_app = typer.Typer(help="应用数据库 / the app database", no_args_is_help=True)
cases_app = typer.Typer(help="企业诉求 / enterprise cases (链长制)", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(cases_app, name="cases")


@cases_app.command("escalate")
def cases_escalate(
    today: Annotated[
        dt.datetime | None,
        typer.Option(
            "--today",
            formats=["%Y-%m-%d"],
            help="按此日期判断逾期（默认今天，北京时间）/ the day deadlines are checked against "
            "(default today, China time)",
        ),
    ] = None,
) -> None:
    """将逾期未办结的诉求提请链长办督办（每天由计划任务运行）/ escalate overdue open cases to
    their chain office (run daily from cron; pages also escalate when an office opens them)."""
    from chainatlas.workflow.access import Actor
    from chainatlas.workflow.cases import escalate_overdue
    from chainatlas.workflow.edits import local_today

    day = today.date() if today else local_today()
    db = _accounts()
    try:
        with db.session() as session:
            found = escalate_overdue(session, Actor.system("escalation"), today=day)
            lines = [f"  #{c.id} {c.chain_id} {c.title}（截止 / due {c.deadline}）" for c in found]
    finally:
        db.dispose()
    err_console.print(
        f"已督办 {len(found)} 件逾期诉求 / escalated {len(found)} overdue cases ({day})"
    )
    for line in lines:
        print(line)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """建立或升级应用数据库 / create or migrate the app database to the current schema."""
    from chainatlas.db.migrate import current_revision, upgrade

    url = settings().app_database_url
    upgrade(url)
    err_console.print(f"应用数据库已是最新 / app database at revision {current_revision(url)}")


@db_app.command("backup")
def db_backup(archive: Path) -> None:
    """备份应用数据库为一个 ZIP / back the app database up into one ZIP archive."""
    from chainatlas.db.backup import backup

    manifest = backup(settings().app_database_url, archive)
    rows = sum(manifest["tables"].values())
    err_console.print(
        f"已备份 / backed up: {archive} ({rows:,} rows, revision {manifest['revision']})"
    )


@db_app.command("restore")
def db_restore(
    archive: Path,
    replace: Annotated[
        bool, typer.Option("--replace", help="覆盖已有数据 / overwrite the rows it holds")
    ] = False,
) -> None:
    """从备份恢复应用数据库（SQLite 与 PostgreSQL 通用）/ restore the app database from a
    backup (either engine)."""
    from chainatlas.db.backup import restore
    from chainatlas.db.migrate import upgrade

    url = settings().app_database_url
    upgrade(url)
    manifest = restore(url, archive, replace=replace)
    rows = sum(manifest["tables"].values())
    err_console.print(f"已恢复 / restored: {archive} ({rows:,} rows)")


def _accounts() -> Any:
    from chainatlas.db.migrate import upgrade
    from chainatlas.db.session import Database

    s = settings()
    upgrade(s.app_database_url)
    return Database(s.app_database_url)


def _password_or_prompt(password: str | None) -> str:
    return password or typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[
        str, typer.Option(help="admin|analyst|chain_office|member_unit|cppcc_member|viewer")
    ],
    password: Annotated[
        str | None, typer.Option(help="省略则提示输入 / prompted when omitted")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="姓名 / display name")] = "",
    chains: Annotated[
        list[str] | None, typer.Option("--chain", help="可见产业链 / chain it sees")
    ] = None,
    region: Annotated[str, typer.Option(help="默认地区 / home region code")] = "",
) -> None:
    """新增用户 / add a user."""
    from chainatlas.accounts.service import add_user

    atlas = _atlas()
    for chain_id in chains or []:
        if chain_id not in atlas:
            fail(f"没有产业链 {chain_id} / no chain {chain_id}")
    db = _accounts()
    with db.session() as session:
        user = add_user(
            session,
            settings().web,
            username,
            _password_or_prompt(password),
            role,
            display_name=name,
            chains=chains or [],
            region_code=region,
        )
        err_console.print(f"已新增 / added: {user.username} ({user.role})")


@users_app.command("list")
def users_list(fmt: Annotated[ListFormat, typer.Option("--format")] = ListFormat.table) -> None:
    """列出用户 / list users."""
    from chainatlas.accounts.service import list_users

    with _accounts().session() as session:
        rows: list[dict[str, Any]] = [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "chains": u.chain_ids,
                "disabled": u.disabled,
                "last_login": u.last_login.isoformat() if u.last_login else None,
            }
            for u in list_users(session)
        ]
    if fmt is ListFormat.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(
        "用户 user", "姓名 name", "角色 role", "产业链 chains", "状态 state", "最近登录 last login"
    )
    for r in rows:
        table.add_row(
            r["username"],
            r["display_name"],
            r["role"],
            ", ".join(r["chains"]),
            "停用 disabled" if r["disabled"] else "正常 active",
            r["last_login"] or "",
        )
    console.print(table)


@users_app.command("disable")
def users_disable(username: str, enable: Annotated[bool, typer.Option("--enable")] = False) -> None:
    """停用（或 --enable 启用）用户 / disable (or re-enable) a user."""
    from chainatlas.accounts.service import set_disabled

    with _accounts().session() as session:
        set_disabled(session, username, not enable)
    err_console.print(f"{'已启用 / enabled' if enable else '已停用 / disabled'}: {username}")


@users_app.command("reset-password")
def users_reset_password(
    username: str, password: Annotated[str | None, typer.Option()] = None
) -> None:
    """重置密码（并解除锁定）/ reset a password (and lift a lock-out)."""
    from chainatlas.accounts.service import reset_password

    with _accounts().session() as session:
        reset_password(session, settings().web, username, _password_or_prompt(password))
    err_console.print(f"已重置 / reset: {username}")


@users_app.command("token")
def users_token(username: str, name: Annotated[str, typer.Option()] = "") -> None:
    """为脚本生成 API 令牌（只显示一次）/ make an API token for scripts (shown once)."""
    from chainatlas.accounts.service import create_token

    with _accounts().session() as session:
        token = create_token(session, username, name)
    print(token)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="默认 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option(help="进程数 / worker processes")] = 1,
) -> None:
    """启动网页平台 / serve the web platform."""
    from chainatlas.services.web import serve_app

    s = settings()
    serve_app(s, host or s.web.host, port or s.web.port, workers)


@app.command()
def demo(
    enterprises: Annotated[int, typer.Option("--enterprises", "-n")] = 300_000,
    out: Annotated[Path | None, typer.Option("--out", help="简报目录 / briefing directory")] = None,
    region: Annotated[str | None, typer.Option("--region")] = None,
    seed: Annotated[int, typer.Option()] = 20251,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="建好后启动网页平台 / then serve the web app")
    ] = True,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="重建演示仓库 / rebuild the demo warehouse")
    ] = False,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """演示：生成演示数据与简报、创建管理员并启动网页平台 / the demo: build the demo
    warehouse and briefings (when absent), create an administrator, serve the web app."""
    from chainatlas.services.demo import demo_admin, run_demo

    s = settings()
    if rebuild or not s.warehouse_path.exists():
        with err_console.status("构建演示仓库与简报 / building the demo warehouse and briefing…"):
            result = run_demo(s, _atlas(), enterprises, seed, region or s.demo_region, out)
        console.print(result.render())
        print("简报文件 / briefing files:")
        for path in result.files:
            print(f"  {path}")
    else:
        err_console.print(
            f"使用已有仓库 / using the existing warehouse {s.warehouse_path} (--rebuild 重建)"
        )
    username, password = demo_admin(s)
    if password:
        print(f"演示管理员 / demo administrator: {username}  密码 / password: {password}")
        print("（密码只显示这一次 / shown only this once）")
    else:
        print(
            f"管理员 {username} 已存在 / administrator {username} exists "
            f"(chainatlas users reset-password {username})"
        )
    if serve_after:
        from chainatlas.services.web import serve_app

        serve_app(s, s.web.host, port or s.web.port, 1)


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
