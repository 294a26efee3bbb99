"""Writing ingested events: one transaction per request, and group commit for small requests.

``store_events`` runs a request's events through the core in one transaction (again on a deadlock).
``GroupWriter`` serves the many small requests (a single event each, typically): those that arrive
while a write runs are written together, so a burst of single events pays for one set of statements
and one commit instead of one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import Session

from collector.core import BatchOutcome, log_investigation_events
from collector.schemas import EventIn

log = logging.getLogger("pricelens.ingest")
DEADLOCK_RETRIES = 3
TRANSIENT_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
GROUP_MAX_EVENTS = 200  # a group stops growing at this many events


def is_transient_conflict(exc: sa.exc.OperationalError) -> bool:
    """A conflict between concurrent transactions that succeeds when simply run again."""
    return getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def store_events(bind: sa.Engine | sa.Connection, events: Sequence[EventIn]) -> BatchOutcome:
    """One transaction through the core; run again on a deadlock, or once on a connection found dead.

    ``bind`` is the engine (a pooled connection per call) or a connection the caller holds (the group
    writer's, not pinged before each use): one that died with a database restart fails its first
    statement and is replaced on the retry. A database that is down still fails (503, see ``create_app``).
    """
    reconnected = False
    attempt = 0
    while True:
        # The session lives (and is closed) in this one thread: a SessionDep would cost two thread hops.
        with Session(bind, expire_on_commit=False) as session:
            try:
                outcome = log_investigation_events(session=session, events=events)
                session.commit()
                return outcome
            except sa.exc.DBAPIError as exc:
                session.rollback()
                if exc.connection_invalidated and not reconnected:
                    reconnected = True
                    continue
                attempt += 1
                transient = isinstance(exc, sa.exc.OperationalError) and is_transient_conflict(exc)
                if not transient or attempt == DEADLOCK_RETRIES:
                    raise


@dataclass
class _Pending:
    events: list[EventIn]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[BatchOutcome]


def _resolve(p: _Pending, result: BatchOutcome | BaseException) -> None:
    def settle() -> None:
        if p.future.done():  # the request was cancelled meanwhile
            return
        if isinstance(result, BaseException):
            p.future.set_exception(result)
        else:
            p.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # its event loop is closed: nobody is waiting
        p.loop.call_soon_threadsafe(settle)


def _split(outcome: BatchOutcome, group: list[_Pending]) -> list[BatchOutcome]:
    """Each request's own answer out of the group's outcome (outcomes come in event order)."""
    parts, at = [], 0
    for p in group:
        part = BatchOutcome(outcomes=outcome.outcomes[at : at + len(p.events)])
        at += len(p.events)
        for o in part.outcomes:
            if o.duplicate:
                part.duplicates += 1
                continue
            part.accepted += 1
            if o.investigation_id not in part.investigation_ids:
                part.investigation_ids.append(o.investigation_id)
        parts.append(part)
    return parts


class GroupWriter:
    """Group commit: small requests that arrive while a write runs are written together, by one thread.

    Concurrent single events share one transaction (one set of statements, one commit) instead of each
    paying for its own. Each request still gets its own answer; if the group fails, its requests are
    written one by one, so one bad request fails alone. No added wait: a group is whatever queued up
    during the previous write. The thread exits after a while idle and starts again on demand.
    """

    IDLE_SECONDS = 5.0

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False
        self._conn: sa.Connection | None = None  # the writer thread's own, while it runs

    async def write(self, events: list[EventIn]) -> BatchOutcome:
        loop = asyncio.get_running_loop()
        pending = _Pending(events, loop, loop.create_future())
        with self._lock:
            self._queue.put(pending)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="pricelens-group-commit", daemon=True).start()
        return await pending.future

    def _run(self) -> None:
        # One connection held while the thread runs: no pool checkout and pre-ping round trip per group.
        try:
            while True:
                try:
                    first = self._queue.get(timeout=self.IDLE_SECONDS)
                except queue.Empty:
                    with self._lock:  # write() enqueues under this lock: nothing slips in unseen
                        if self._queue.empty():
                            self._running = False
                            return
                    continue
                group, size = [first], len(first.events)
                while size < GROUP_MAX_EVENTS:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    group.append(nxt)
                    size += len(nxt.events)
                self._write(group)
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _store(self, events: list[EventIn]) -> BatchOutcome:
        if self._conn is None:
            self._conn = self._engine.connect()
        return store_events(self._conn, events)

    def _write(self, group: list[_Pending]) -> None:
        if len(group) > 1:
            try:
                outcome = self._store([e for p in group for e in p.events])
            except Exception:
                log.info("group of %d requests failed; writing them one by one", len(group), exc_info=True)
            else:
                for p, part in zip(group, _split(outcome, group), strict=True):
                    _resolve(p, part)
                return
        for p in group:
            try:
                _resolve(p, self._store(p.events))
            except Exception as exc:
                _resolve(p, exc)


def group_writer(app: FastAPI) -> GroupWriter:
    """The app's group writer (created on first use)."""
    writer: GroupWriter | None = getattr(app.state, "group_writer", None)
    if writer is None:
        writer = app.state.group_writer = GroupWriter(app.state.engine)
    return writer
