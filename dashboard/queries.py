"""Read queries only the dashboard needs: sparklines, event histograms, supplier health, job runs.

Everything is aggregated in SQL with one grouped query per widget (never one query per row): the
stream's 14-day sparklines for a whole page come back from a single ``GROUP BY investigation, day``
that the ``(investigation_id, occurred_at)`` index answers. Day buckets are UTC on both dialects.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from collector.models import Event, Investigation, InvestigationStatus, JobRun, SupplierDay

ACTIVE = (InvestigationStatus.OPEN, InvestigationStatus.ACKNOWLEDGED)


def _day_expr(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(func.timezone("UTC", column), sa.Date)
    return func.date(column)


def _as_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _window(days: int, now: datetime) -> tuple[list[date], datetime]:
    today = now.astimezone(UTC).date()
    buckets = [today - timedelta(days=days - 1 - i) for i in range(days)]
    return buckets, datetime.combine(buckets[0], time.min, UTC)


def sparklines(
    session: Session, investigation_ids: Sequence[int], *, days: int = 14, now: datetime | None = None
) -> dict[int, list[int]]:
    """Events per UTC day over the last ``days`` days for each id, oldest day first, in one query."""
    buckets, since = _window(days, now or datetime.now(UTC))
    result = {i: [0] * days for i in investigation_ids}
    if not investigation_ids:
        return result
    index = {d: n for n, d in enumerate(buckets)}
    day = _day_expr(session, Event.occurred_at)
    rows = session.execute(
        sa.select(col(Event.investigation_id), day, func.count())
        .where(col(Event.investigation_id).in_(list(investigation_ids)), col(Event.occurred_at) >= since)
        .group_by(col(Event.investigation_id), day)
    ).all()
    for inv_id, bucket, count in rows:
        slot = index.get(_as_date(bucket))
        if slot is not None:
            result[inv_id][slot] = int(count)
    return result


def event_histogram(
    session: Session, investigation_id: int, *, days: int = 30, now: datetime | None = None
) -> list[tuple[date, float]]:
    """Events per UTC day for one investigation (the detail page's chart)."""
    buckets, _ = _window(days, now or datetime.now(UTC))
    counts = sparklines(session, [investigation_id], days=days, now=now)[investigation_id]
    return [(d, float(c)) for d, c in zip(buckets, counts, strict=True)]


def has_investigations(session: Session) -> bool:
    return session.exec(select(Investigation.id).limit(1)).first() is not None


@dataclass
class SupplierHealth:
    """One supplier at a glance, as of the latest analysed day."""

    supplier: str
    day: date | None = None
    loads: int = 0
    loads_failed: int = 0
    rows_loaded: int = 0
    rows_total: int = 0
    rows_rejected: int = 0
    expected: bool = False
    usual_rows: float | None = None
    last_success_at: datetime | None = None
    open_investigations: int = 0
    findings: list[str] = field(default_factory=list)

    @property
    def reject_share(self) -> float | None:
        return self.rows_rejected / self.rows_total if self.rows_total else None

    @property
    def rows_vs_usual(self) -> float | None:
        return self.rows_loaded / self.usual_rows if self.usual_rows else None

    @property
    def health(self) -> str:
        """``bad`` (a finding; nothing loaded when expected; all failed), ``warn``, ``ok``, ``unknown``."""
        if self.day is None:
            return "warn" if self.open_investigations else "unknown"
        if self.findings or (self.expected and self.loads == self.loads_failed):
            return "bad"
        ratio = self.rows_vs_usual
        if self.open_investigations or self.loads_failed or (ratio is not None and ratio < 0.5):
            return "warn"
        return "ok"


def latest_supplier_day(session: Session) -> date | None:
    value = session.exec(select(func.max(SupplierDay.day))).one()
    return _as_date(value) if value is not None else None


def supplier_health(session: Session, *, history_days: int = 7) -> list[SupplierHealth]:
    """Every supplier known from ``supplier_day`` or from active investigations, worst first."""
    latest = latest_supplier_day(session)
    by_supplier: dict[str, SupplierHealth] = {}
    if latest is not None:
        for row in session.exec(select(SupplierDay).where(SupplierDay.day == latest)).all():
            by_supplier[row.supplier] = SupplierHealth(
                row.supplier, day=row.day, loads=row.loads, loads_failed=row.loads_failed,
                rows_loaded=row.rows_loaded, rows_total=row.rows_total, rows_rejected=row.rows_rejected,
                expected=row.expected, findings=list(row.findings or []),
            )  # fmt: skip
        # "Usual" = the median of the previous loading days; plain tuples, no ORM objects (300 x 7 rows).
        history: dict[str, list[int]] = {}
        for name, rows_loaded in session.exec(
            select(SupplierDay.supplier, SupplierDay.rows_loaded).where(
                col(SupplierDay.day) >= latest - timedelta(days=history_days),
                col(SupplierDay.day) < latest,
                col(SupplierDay.loads) > col(SupplierDay.loads_failed),
            )
        ).all():
            history.setdefault(name, []).append(rows_loaded)
        for name, values in history.items():
            by_supplier.setdefault(name, SupplierHealth(name)).usual_rows = float(statistics.median(values))
        successes = session.exec(
            select(SupplierDay.supplier, func.max(SupplierDay.last_success_at))
            .where(col(SupplierDay.day) >= latest - timedelta(days=90))
            .group_by(col(SupplierDay.supplier))
        ).all()
        for name, last_success in successes:
            by_supplier.setdefault(name, SupplierHealth(name)).last_success_at = last_success
    counts = session.exec(
        select(Investigation.supplier, func.count())
        .where(col(Investigation.status).in_(ACTIVE), col(Investigation.supplier).is_not(None))
        .group_by(col(Investigation.supplier))
    ).all()
    for supplier, count in counts:
        if supplier:
            by_supplier.setdefault(supplier, SupplierHealth(supplier)).open_investigations = int(count)
    order = {"bad": 0, "warn": 1, "unknown": 2, "ok": 3}
    return sorted(by_supplier.values(), key=lambda h: (order[h.health], h.supplier))


def supplier_series(session: Session, supplier: str, *, days: int = 60) -> list[SupplierDay]:
    """The supplier's ``supplier_day`` rows over its last ``days`` analysed days, oldest first."""
    latest = session.exec(select(func.max(SupplierDay.day)).where(SupplierDay.supplier == supplier)).one()
    if latest is None:
        return []
    start = _as_date(latest) - timedelta(days=days - 1)
    return list(
        session.exec(
            select(SupplierDay)
            .where(SupplierDay.supplier == supplier, col(SupplierDay.day) >= start)
            .order_by(col(SupplierDay.day))
        ).all()
    )


def recent_runs(session: Session, *, job_id: str | None = None, limit: int = 50) -> list[JobRun]:
    query = select(JobRun).order_by(col(JobRun.id).desc()).limit(limit)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    return list(session.exec(query).all())


def last_run_per_job(session: Session) -> dict[str, JobRun]:
    latest = select(func.max(JobRun.id)).group_by(col(JobRun.job_id)).scalar_subquery()
    return {r.job_id: r for r in session.exec(select(JobRun).where(col(JobRun.id).in_(latest))).all()}


def running_runs(session: Session) -> list[JobRun]:
    return list(
        session.exec(select(JobRun).where(JobRun.status == "running").order_by(col(JobRun.id).desc())).all()
    )
