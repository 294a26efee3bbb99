"""Read and triage investigations: list with filters, one with its events and activity, and changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from collector import queries, triage
from collector.api.deps import AdminToken, IngestToken, SessionDep
from collector.models import Activity, Event, Investigation

router = APIRouter(prefix="/api/v1/pricelens/investigations", tags=["investigations"])


class InvestigationOut(BaseModel):
    id: int
    fingerprint: str
    fingerprint_parts: list[str]
    kind: str
    service: str
    supplier: str | None
    title: str
    culprit: str | None
    status: str
    regressed: bool
    level: str
    first_seen: datetime
    last_seen: datetime
    event_count: int
    assignee: str | None
    resolved_at: datetime | None


class EventOut(BaseModel):
    event_id: str
    occurred_at: datetime
    received_at: datetime
    service: str
    kind: str
    host: str | None
    level: str
    logger: str | None
    message: str
    error_type: str | None
    traceback: str | None
    supplier: str | None
    file: str | None
    extra: dict[str, Any]
    truncated: bool


class ActivityOut(BaseModel):
    at: datetime
    actor: str
    action: str
    old_value: str | None
    new_value: str | None
    text: str | None


class InvestigationPage(BaseModel):
    items: list[InvestigationOut]
    total: int
    page: int
    per_page: int


class InvestigationDetail(InvestigationOut):
    events: list[EventOut]
    activity: list[ActivityOut]


class StatusChange(BaseModel):
    status: Literal["open", "acknowledged", "resolved", "ignored"]


class Assignment(BaseModel):
    assignee: str | None = Field(None, max_length=100)


class Comment(BaseModel):
    text: str = Field(min_length=1, max_length=triage.MAX_COMMENT_CHARS)


def _out(inv: Investigation) -> InvestigationOut:
    return InvestigationOut.model_validate(inv, from_attributes=True)


@router.get("/", response_model=InvestigationPage, summary="List investigations")
def list_investigations(
    session: SessionDep,
    _: IngestToken,
    status: Annotated[list[Literal["open", "acknowledged", "resolved", "ignored"]] | None, Query()] = None,
    service: Annotated[str | None, Query(max_length=64)] = None,
    supplier: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: queries.SortKey = "last_seen",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=queries.MAX_PER_PAGE)] = 50,
) -> InvestigationPage:
    filters = queries.InvestigationFilter(
        status=list(status or []),
        service=service,
        supplier=supplier,
        kind=kind,
        since=since,
        until=until,
        q=q,
    )
    result = queries.list_investigations(
        session, filters, sort=sort, descending=order == "desc", page=page, per_page=per_page
    )
    return InvestigationPage(
        items=[_out(i) for i in result.items], total=result.total, page=result.page, per_page=result.per_page
    )


def _detail(session: SessionDep, investigation_id: int, events: int = 20) -> InvestigationDetail:
    inv = queries.get_investigation(session, investigation_id)
    if inv is None:
        raise HTTPException(404, f"investigation {investigation_id} does not exist")
    latest: list[Event] = queries.latest_events(session, investigation_id, events)
    history: list[Activity] = queries.activity(session, investigation_id)
    return InvestigationDetail(
        **_out(inv).model_dump(),
        events=[EventOut.model_validate(e, from_attributes=True) for e in latest],
        activity=[ActivityOut.model_validate(a, from_attributes=True) for a in history],
    )


@router.get("/{investigation_id}/", response_model=InvestigationDetail, summary="One investigation")
def get_investigation(
    investigation_id: int,
    session: SessionDep,
    _: IngestToken,
    events: Annotated[int, Query(ge=1, le=200)] = 20,
) -> InvestigationDetail:
    return _detail(session, investigation_id, events)


def _apply(session: SessionDep, investigation_id: int, action: Any) -> InvestigationDetail:
    try:
        action()
        session.commit()
    except triage.NotFoundError as exc:
        session.rollback()
        raise HTTPException(404, str(exc)) from exc
    except triage.TriageError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from exc
    return _detail(session, investigation_id)


@router.post("/{investigation_id}/status/", response_model=InvestigationDetail, summary="Change status")
def change_status(
    investigation_id: int, body: StatusChange, session: SessionDep, admin: AdminToken
) -> InvestigationDetail:
    return _apply(
        session,
        investigation_id,
        lambda: triage.change_status(
            session=session, investigation_id=investigation_id, status=body.status, actor=admin.name
        ),
    )


@router.post("/{investigation_id}/assign/", response_model=InvestigationDetail, summary="Assign")
def assign(
    investigation_id: int, body: Assignment, session: SessionDep, admin: AdminToken
) -> InvestigationDetail:
    return _apply(
        session,
        investigation_id,
        lambda: triage.assign(
            session=session, investigation_id=investigation_id, assignee=body.assignee, actor=admin.name
        ),
    )


@router.post("/{investigation_id}/comments/", response_model=InvestigationDetail, summary="Comment")
def comment(
    investigation_id: int, body: Comment, session: SessionDep, admin: AdminToken
) -> InvestigationDetail:
    return _apply(
        session,
        investigation_id,
        lambda: triage.add_comment(
            session=session, investigation_id=investigation_id, text=body.text, actor=admin.name
        ),
    )
