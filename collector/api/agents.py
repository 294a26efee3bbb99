"""Agent heartbeats: each sidecar reports what it watches and how far behind it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import select

from collector.api.deps import IngestToken, SessionDep
from collector.models import Agent
from collector.queries import list_agents

router = APIRouter(prefix="/api/v1/pricelens/agents", tags=["agents"])


class Heartbeat(BaseModel):
    hostname: str = Field(min_length=1, max_length=255)
    version: str | None = Field(None, max_length=64)
    files: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    lag_bytes: int = Field(0, ge=0)
    spool_depth: int = Field(0, ge=0)
    dead_letters: int = Field(0, ge=0)
    last_error: str | None = Field(None, max_length=10_000)


class AgentOut(Heartbeat):
    token_name: str | None
    last_heartbeat: datetime


@router.post("/heartbeat/", status_code=204, summary="Record an agent heartbeat")
def heartbeat(body: Heartbeat, session: SessionDep, principal: IngestToken) -> None:
    agent = session.exec(select(Agent).where(Agent.hostname == body.hostname)).first() or Agent(
        hostname=body.hostname, last_heartbeat=datetime.now(UTC)
    )
    for key, value in body.model_dump().items():
        setattr(agent, key, value)
    agent.token_name = principal.name
    agent.last_heartbeat = datetime.now(UTC)
    session.add(agent)
    session.commit()


@router.get("/", response_model=list[AgentOut], summary="List agents and their last heartbeat")
def agents(session: SessionDep, _: IngestToken) -> list[AgentOut]:
    return [AgentOut.model_validate(a, from_attributes=True) for a in list_agents(session)]
