"""`chainatlas demo`: from nothing to a synthetic national warehouse and a city briefing.

The warehouse is built in a temporary file and moved into place at the end, so an
interrupted demo never leaves a half-built warehouse; a warehouse holding real
(non-synthetic) data is never replaced.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from chainatlas.atlas.model import Chain
from chainatlas.diagnose import diagnose
from chainatlas.engine.warehouse import Warehouse
from chainatlas.errors import UserError
from chainatlas.services.data import run_synth
from chainatlas.services.diagnosis import write_diagnosis
from chainatlas.services.load import load_enterprises, load_links
from chainatlas.settings import Settings

DEMO_CHAINS = ("sugarcane", "green_home", "tcm_ethnic_medicine")


@dataclass
class DemoResult:
    warehouse: Path
    data_dir: Path
    briefing_dir: Path
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    enterprises: int = 0
    links: int = 0
    summaries: list[tuple[str, str, float, dict[str, int]]] = field(default_factory=list)

    def render(self) -> Table:
        table = Table(
            title="chainatlas 演示完成 / demo ready (合成数据 synthetic data)", show_header=False
        )
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row("仓库 warehouse", str(self.warehouse))
        table.add_row("企业 / 供应关系", f"{self.enterprises:,} / {self.links:,}")
        for chain_id, region, comp, counts in self.summaries:
            table.add_row(
                f"诊断 {region} · {chain_id}",
                f"完整度 {comp:.0%}；" + "，".join(f"{k} {v}" for k, v in counts.items()),
            )
        table.add_row("简报 briefing", str(self.briefing_dir))
        table.add_row("用时 seconds", "，".join(f"{k} {v:.1f}" for k, v in self.timings.items()))
        return table


def _guard_real_data(path: Path) -> None:
    if not path.exists():
        return
    with Warehouse(path, read_only=True) as wh:
        row = wh.raw.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT synthetic) FROM enterprises"
        ).fetchone()
    if row and row[1]:
        raise UserError(
            f"{path} 中有真实企业数据，演示不会覆盖；请设置其他 CHAINATLAS_HOME",
            f"{path} holds real enterprise data; the demo will not replace it — set another "
            "CHAINATLAS_HOME",
        )


def run_demo(
    settings: Settings, atlas: Mapping[str, Chain], n: int, seed: int, region: str, out: Path | None
) -> DemoResult:
    from chainatlas.ingest.enterprises import validate_enterprises
    from chainatlas.ingest.links import validate_links
    from chainatlas.ingest.readers import read_table
    from chainatlas.reference.regions import region_codes

    target = settings.warehouse_path
    _guard_real_data(target)
    data_dir = settings.home / "demo-data"
    briefing_dir = out or settings.home / "briefings" / region
    result = DemoResult(target, data_dir, briefing_dir)

    t = time.perf_counter()
    run_synth(n, seed, data_dir, atlas)
    result.timings["synth"] = time.perf_counter() - t

    building = target.with_name(target.name + ".building")
    for stale in (building, building.with_name(building.name + ".wal")):
        stale.unlink(missing_ok=True)
    t = time.perf_counter()
    regions = region_codes()
    firms = validate_enterprises(read_table(data_dir / "enterprises.parquet"), regions)
    links = validate_links(read_table(data_dir / "supply_links.parquet"), None)
    result.timings["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    with Warehouse(building) as wh:
        load_enterprises(wh, firms.accepted, atlas, settings.classify)
        load_links(wh, links.accepted)
        result.enterprises, result.links = wh.count("enterprises"), wh.count("supply_links")
        wh.raw.execute("CHECKPOINT")
    result.timings["load+classify"] = time.perf_counter() - t
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    shutil.move(building, target)

    t = time.perf_counter()
    with Warehouse(target, read_only=True) as wh:
        for chain_id in (c for c in DEMO_CHAINS if c in atlas):
            chain = atlas[chain_id]
            diagnosis = diagnose(wh, chain, region, settings.status, settings.lead_firm)
            stem = briefing_dir / f"{region}-{chain_id}"
            for fmt in ("html", "json", "xlsx"):
                path = stem.with_suffix(f".{fmt}")
                write_diagnosis(diagnosis, chain, fmt, path)
                result.files.append(path)
            result.summaries.append(
                (chain_id, diagnosis.region.name, diagnosis.completeness, diagnosis.status_counts)
            )
    result.timings["diagnose"] = time.perf_counter() - t
    return result


DEMO_ADMIN = "admin"


def demo_admin(settings: Settings) -> tuple[str, str | None]:
    """Create the demo administrator with a random password, returned once; when the
    account exists already, (name, None)."""
    from chainatlas.accounts.passwords import generate_password
    from chainatlas.accounts.service import add_user, find_user
    from chainatlas.db.migrate import upgrade
    from chainatlas.db.session import Database

    upgrade(settings.app_database_url)
    db = Database(settings.app_database_url)
    try:
        with db.session() as session:
            if find_user(session, DEMO_ADMIN) is not None:
                return DEMO_ADMIN, None
            password = generate_password(max(16, settings.web.password_min_length))
            add_user(
                session,
                settings.web,
                DEMO_ADMIN,
                password,
                "admin",
                display_name="演示管理员",
                region_code=settings.demo_region,
                actor="demo",
            )
            return DEMO_ADMIN, password
    finally:
        db.dispose()
