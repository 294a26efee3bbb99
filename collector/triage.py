"""What people do to investigations: change status, assign, comment. Each change is an activity row."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from collector.models import Activity, Investigation, InvestigationStatus

MAX_COMMENT_CHARS = 10_000


class TriageError(ValueError):
    """A triage request that cannot be carried out (unknown status, empty comment, …)."""


class NotFoundError(LookupError):
    """No investigation with that id."""


def _get(session: Session, investigation_id: int) -> Investigation:
    inv = session.get(Investigation, investigation_id, with_for_update=True)
    if inv is None:
        raise NotFoundError(f"investigation {investigation_id} does not exist")
    return inv


def change_status(*, session: Session, investigation_id: int, status: str, actor: str) -> Investigation:
    """Move an investigation to ``status``; a person looking at it clears the regressed mark."""
    if status not in InvestigationStatus.ALL:
        raise TriageError(f"status must be one of {', '.join(InvestigationStatus.ALL)}")
    inv = _get(session, investigation_id)
    if inv.status == status:
        return inv
    now = datetime.now(UTC)
    session.add(
        Activity(
            investigation_id=investigation_id,
            at=now,
            actor=actor,
            action="status",
            old_value=inv.status,
            new_value=status,
        )
    )
    inv.status = status
    inv.regressed = False
    inv.resolved_at = now if status == InvestigationStatus.RESOLVED else None
    session.add(inv)
    session.flush()
    return inv


def assign(*, session: Session, investigation_id: int, assignee: str | None, actor: str) -> Investigation:
    """Set or clear (``None`` / empty) who is looking after an investigation."""
    assignee = (assignee or "").strip() or None
    if assignee is not None and len(assignee) > 100:
        raise TriageError("assignee must be at most 100 characters")
    inv = _get(session, investigation_id)
    if inv.assignee == assignee:
        return inv
    session.add(
        Activity(
            investigation_id=investigation_id,
            at=datetime.now(UTC),
            actor=actor,
            action="assign",
            old_value=inv.assignee,
            new_value=assignee,
        )
    )
    inv.assignee = assignee
    session.add(inv)
    session.flush()
    return inv


def add_comment(*, session: Session, investigation_id: int, text: str, actor: str) -> Activity:
    """Append a comment to the investigation's history."""
    text = text.strip()
    if not text:
        raise TriageError("a comment needs some text")
    if len(text) > MAX_COMMENT_CHARS:
        raise TriageError(f"a comment must be at most {MAX_COMMENT_CHARS} characters")
    _get(session, investigation_id)
    activity = Activity(
        investigation_id=investigation_id, at=datetime.now(UTC), actor=actor, action="comment", text=text
    )
    session.add(activity)
    session.flush()
    return activity
