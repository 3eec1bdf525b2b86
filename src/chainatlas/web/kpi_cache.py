"""The 考核 page's analytics KPIs (completeness then and now, gaps filled and opened; see
`services.kpi_analytics`), computed once per warehouse version, region and pair of years and
kept in the process like the analysis pages' figures (`web.readmodel`): a load changes the
version, so no stale figure is ever served. Periods within the same years share an entry."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from chainatlas.engine.history import data_years
from chainatlas.services.kpi_analytics import (
    CompletenessChanges,
    completeness_changes,
    period_years,
)
from chainatlas.web.readmodel import VersionedLRU
from chainatlas.web.state import AppState

_lock = threading.Lock()


def _cache(state: AppState, name: str, maxsize: int) -> VersionedLRU[Any]:
    key = f"kpi_cache.{name}"
    with _lock:
        found = state.caches.get(key)
        if found is None:
            found = state.caches[key] = VersionedLRU(maxsize)
        return found


def cached_completeness_changes(
    state: AppState, region_code: str, start: dt.date, end: dt.date
) -> CompletenessChanges | None:
    """The changes of `region_code` on every chain over the period [start, end]; None when
    there is no warehouse yet."""
    if not state.warehouse.exists:
        return None
    with state.warehouse.read() as wh:
        version = state.warehouse.version
        span = _cache(state, "data_years", 1).get(version, "span", lambda: data_years(wh))
        years = period_years(span, start, end)
        return _cache(state, "completeness_changes", 64).get(
            version,
            (region_code, years),
            lambda: completeness_changes(
                wh, state.atlas, region_code, years, state.settings.status
            ),
        )
