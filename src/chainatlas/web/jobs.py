"""Background jobs of the web app: rows of the `jobs` table run by one worker thread per
process, one at a time, in the order submitted.

A route calls `submit(state, kind, params, user)`; the body registered for `kind` runs in
the worker with a progress callback that updates the row (at most every
`PROGRESS_INTERVAL` seconds), and its result (a JSON-able dict) or its error (the
UserError's Chinese and English message, else the exception text) is stored when it ends.
Pages poll the row. A job left queued or running by a process that no longer lives (killed,
restarted) is marked failed ("interrupted") when the app starts.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import FastAPI
from sqlalchemy import select, update

from chainatlas.accounts.models import User
from chainatlas.db.audit import record
from chainatlas.db.base import utcnow
from chainatlas.db.jobs import Job, JobState
from chainatlas.db.session import Database
from chainatlas.web.state import AppState

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
# a job body: (app state, job id, params) and a progress callback → the result
JobBody = Callable[[AppState, int, dict[str, Any], Progress], dict[str, Any]]

PROGRESS_INTERVAL = 0.5  # seconds between two progress writes of one job
UNFINISHED = (JobState.queued, JobState.running)
INTERRUPTED = (
    "任务中断：服务在任务完成前停止",
    "interrupted: the server stopped before the job ended",
)

_BODIES: dict[str, JobBody] = {}
_RUNNER_KEY = "jobs.runner"
_runner_lock = threading.Lock()


def register(kind: str) -> Callable[[JobBody], JobBody]:
    """Decorator: the body that runs jobs of `kind`."""

    def decorate(body: JobBody) -> JobBody:
        _BODIES[kind] = body
        return body

    return decorate


def local_time(stamp: datetime | None) -> str:
    """A stored (naive UTC) time in the server's time zone, to the minute; "—" for none."""
    if stamp is None:
        return "—"
    return stamp.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


# --- reading jobs ------------------------------------------------------------------------
@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    state: str
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any]
    error_zh: str
    error_en: str
    created_by: str
    created_at: datetime
    finished_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.state in UNFINISHED

    @property
    def percent(self) -> int:
        return 100 if self.state == JobState.done else round(100 * self.progress)

    def error(self, lang: str) -> str:
        return self.error_en if lang == "en" else self.error_zh

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.created_at).total_seconds()


def _view(job: Job, username: str | None) -> JobView:
    error = _loads(job.error) if job.error.startswith("{") else {}
    return JobView(
        id=job.id,
        kind=job.kind,
        state=job.state,
        progress=max(0.0, min(1.0, job.progress or 0.0)),
        message=job.message,
        params=_loads(job.params),
        result=_loads(job.result) if job.state == JobState.done else {},
        error_zh=str(error.get("zh", job.error)),
        error_en=str(error.get("en", job.error)),
        created_by=username or "",
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def list_jobs(db: Database, kinds: Sequence[str], limit: int = 20) -> list[JobView]:
    """The latest jobs of these kinds, newest first, with who started them."""
    with db.session() as session:
        rows = session.execute(
            select(Job, User.username)
            .outerjoin(User, User.id == Job.created_by)
            .where(Job.kind.in_(list(kinds)))
            .order_by(Job.id.desc())
            .limit(limit)
        ).all()
        return [_view(job, username) for job, username in rows]


def get_job(db: Database, job_id: int, kinds: Sequence[str] | None = None) -> JobView | None:
    with db.session() as session:
        row = session.execute(
            select(Job, User.username)
            .outerjoin(User, User.id == Job.created_by)
            .where(Job.id == job_id)
        ).first()
        if row is None or (kinds is not None and row[0].kind not in kinds):
            return None
        return _view(row[0], row[1])


# --- running jobs ------------------------------------------------------------------------
def _this_runner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


@dataclass
class _Runner:
    executor: ThreadPoolExecutor
    futures: dict[int, Future[None]] = field(default_factory=dict)


def _runner(state: AppState) -> _Runner:
    with _runner_lock:
        runner = state.caches.get(_RUNNER_KEY)
        if runner is None:
            runner = _Runner(ThreadPoolExecutor(max_workers=1, thread_name_prefix="job"))
            state.caches[_RUNNER_KEY] = runner
        return runner


def create(
    state: AppState,
    kind: str,
    params: dict[str, Any],
    user: User | None,
    *,
    audit: str | None = None,
) -> int:
    """A queued job row (and, with `audit`, its audit entry in the same transaction)."""
    if kind not in _BODIES:
        raise KeyError(f"no job body registered for {kind!r}")
    with state.db.session() as session:
        job = Job(
            kind=kind,
            state=JobState.queued,
            progress=0.0,
            params=json.dumps(params, ensure_ascii=False, default=str),
            # who runs it, until the result replaces it: lets a restart tell a live job
            # of another worker process from one whose process died
            result=json.dumps({"runner": _this_runner()}),
            created_by=user.id if user is not None else None,
        )
        session.add(job)
        session.flush()
        if audit:
            record(
                session,
                user.username if user is not None else "",
                audit,
                target=f"job/{job.id}",
                detail=params,
                user_id=user.id if user is not None else None,
            )
        return job.id


def start(state: AppState, job_id: int) -> None:
    runner = _runner(state)
    with _runner_lock:
        runner.futures[job_id] = runner.executor.submit(_run, state, job_id)


def submit(
    state: AppState,
    kind: str,
    params: dict[str, Any],
    user: User | None,
    *,
    audit: str | None = None,
) -> int:
    """Queue a job of `kind` and start it as soon as the worker is free; its id."""
    job_id = create(state, kind, params, user, audit=audit)
    start(state, job_id)
    return job_id


def fail(db: Database, job_id: int, message_zh: str, message_en: str) -> None:
    _finish(db, job_id, JobState.failed, error=(message_zh, message_en))


class _Reporter:
    """The progress callback of one job: writes fraction and stage, throttled."""

    def __init__(self, db: Database, job_id: int) -> None:
        self.db = db
        self.job_id = job_id
        self.last_write = float("-inf")
        self.fraction = 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        # the bar never runs backwards, whatever the body reports
        self.fraction = max(self.fraction, min(1.0, max(0.0, fraction)))
        now = time.monotonic()
        if now - self.last_write < PROGRESS_INTERVAL:
            return
        self.last_write = now
        with self.db.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(progress=self.fraction, message=stage)
            )


def _messages(exc: BaseException) -> tuple[str, str]:
    zh, en = getattr(exc, "message_zh", None), getattr(exc, "message_en", None)
    if isinstance(zh, str) and isinstance(en, str):
        return zh, en
    text = f"{type(exc).__name__}: {exc}"
    return text, text


def _finish(
    db: Database,
    job_id: int,
    state: JobState,
    result: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
) -> None:
    values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "message": ""}
    if state == JobState.done:
        values["progress"] = 1.0
    values["result"] = json.dumps(result or {}, ensure_ascii=False, default=str)
    if error is not None:
        values["error"] = json.dumps({"zh": error[0], "en": error[1]}, ensure_ascii=False)
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def _run(state: AppState, job_id: int) -> None:
    try:
        _execute(state, job_id)
    finally:
        with _runner_lock:
            runner = state.caches.get(_RUNNER_KEY)
            if runner is not None:
                runner.futures.pop(job_id, None)


def _execute(state: AppState, job_id: int) -> None:
    try:
        with state.db.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.state != JobState.queued:
                return
            job.state = JobState.running
            kind, params = job.kind, _loads(job.params)
        result = _BODIES[kind](state, job_id, params, _Reporter(state.db, job_id))
        _finish(state.db, job_id, JobState.done, result=result)
    except Exception as exc:
        if not hasattr(exc, "message_zh"):
            log.exception("job %s failed", job_id)
        try:
            _finish(state.db, job_id, JobState.failed, error=_messages(exc))
        except Exception:
            log.exception("job %s: could not record the failure", job_id)


def wait(state: AppState, job_id: int, timeout: float | None = None) -> None:
    """Block until the job's body has ended (tests, command-line use)."""
    runner = state.caches.get(_RUNNER_KEY)
    future = runner.futures.get(job_id) if runner is not None else None
    if future is not None:
        future.result(timeout)


# --- process start and stop --------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(db: Database) -> list[int]:
    """Mark failed the queued or running jobs whose process is gone; their ids.

    A job started by a live process on this host (another worker of the same server) is
    left alone; one from another host cannot be checked and counts as interrupted."""
    here = socket.gethostname()
    marked = []
    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.state.in_(list(UNFINISHED)))).all()
        for job in jobs:
            runner = _loads(job.result).get("runner") or {}
            pid = runner.get("pid")
            if runner.get("host") == here and isinstance(pid, int) and _alive(pid):
                continue
            job.state = JobState.failed
            job.error = json.dumps({"zh": INTERRUPTED[0], "en": INTERRUPTED[1]}, ensure_ascii=False)
            job.result = "{}"
            job.finished_at = utcnow()
            marked.append(job.id)
    if marked:
        log.warning("jobs %s were interrupted and are marked failed", marked)
    return marked


def shutdown(state: AppState) -> None:
    """Stop the worker: the running job ends, queued ones are marked interrupted."""
    with _runner_lock:
        runner = state.caches.pop(_RUNNER_KEY, None)
    if runner is None:
        return
    runner.executor.shutdown(wait=True, cancel_futures=True)
    for job_id, future in list(runner.futures.items()):
        if future.cancelled():
            fail(state.db, job_id, *INTERRUPTED)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Merged into the app's lifespan by the router that carries it (routes/data.py)."""
    state: AppState = app.state.chainatlas
    await anyio.to_thread.run_sync(recover_interrupted, state.db)
    yield
    await anyio.to_thread.run_sync(shutdown, state)
