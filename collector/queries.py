"""Read queries over investigations and agents, shared by the API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from collector.models import Activity, Agent, Event, Investigation

SortKey = Literal["last_seen", "first_seen", "event_count"]
SORT_COLUMNS: dict[str, Any] = {
    "last_seen": Investigation.last_seen,
    "first_seen": Investigation.first_seen,
    "event_count": Investigation.event_count,
}
MAX_PER_PAGE = 200


@dataclass
class InvestigationFilter:
    """The filters of the investigations stream; every field is optional."""

    status: list[str] = field(default_factory=list)
    service: str | None = None
    supplier: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


@dataclass
class Page:
    items: list[Investigation]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(f: InvestigationFilter) -> list[Any]:
    clauses: list[Any] = []
    # NUL cannot occur in stored text (PostgreSQL refuses it), so a filter containing one matches nothing.
    texts = (f.service, f.supplier, f.kind, f.q, *f.status)
    if any(t and "\x00" in t for t in texts):
        return [sa.false()]
    if f.status:
        clauses.append(col(Investigation.status).in_(f.status))
    if f.service:
        clauses.append(col(Investigation.service) == f.service)
    if f.supplier:
        clauses.append(col(Investigation.supplier) == f.supplier)
    if f.kind:
        clauses.append(col(Investigation.kind) == f.kind)
    if f.since:
        clauses.append(col(Investigation.last_seen) >= f.since)
    if f.until:
        clauses.append(col(Investigation.first_seen) <= f.until)
    if f.q:
        pattern = _like_pattern(f.q.strip())
        clauses.append(
            sa.or_(
                col(Investigation.title).ilike(pattern, escape="\\"),
                col(Investigation.supplier).ilike(pattern, escape="\\"),
                col(Investigation.culprit).ilike(pattern, escape="\\"),
            )
        )
    return clauses


def list_investigations(
    session: Session,
    filters: InvestigationFilter,
    *,
    sort: SortKey = "last_seen",
    descending: bool = True,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """One page of investigations matching ``filters``, newest activity first by default."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    where = _where(filters)
    total = session.exec(select(func.count()).select_from(Investigation).where(*where)).one()
    order = SORT_COLUMNS[sort]
    order_by = [order.desc() if descending else order.asc(), col(Investigation.id).desc()]
    items = session.exec(
        select(Investigation).where(*where).order_by(*order_by).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(items=list(items), total=int(total), page=page, per_page=per_page)


def get_investigation(session: Session, investigation_id: int) -> Investigation | None:
    return session.get(Investigation, investigation_id)


def latest_events(session: Session, investigation_id: int, limit: int = 20) -> list[Event]:
    return list(
        session.exec(
            select(Event)
            .where(Event.investigation_id == investigation_id)
            .order_by(col(Event.occurred_at).desc(), col(Event.id).desc())
            .limit(limit)
        ).all()
    )


def activity(session: Session, investigation_id: int) -> list[Activity]:
    return list(
        session.exec(
            select(Activity)
            .where(Activity.investigation_id == investigation_id)
            .order_by(col(Activity.at), col(Activity.id))
        ).all()
    )


def distinct_values(session: Session, column: Any) -> list[str]:
    """Values for filter drop-downs (services, suppliers, kinds)."""
    rows = session.exec(select(column).where(column.is_not(None)).distinct().order_by(column)).all()
    return [r for r in rows if r]


def list_agents(session: Session) -> list[Agent]:
    return list(session.exec(select(Agent).order_by(col(Agent.hostname))).all())
