"""FastAPI dependencies: the database session and the token principals (``IngestToken``, ``AdminToken``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from collector.settings import Settings
from collector.tokens import Principal, PrincipalCache, authenticate

SCHEMES = ("bearer", "token")
# A revoked token keeps working for at most this long in a running collector (see PrincipalCache).
PRINCIPAL_TTL_SECONDS = 5.0


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the thread
# pool, a hop that costs more than the work itself.


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def presented_token(request: Request) -> str:
    """The token from ``Authorization: Bearer …`` or ``Authorization: Token …`` (DRF clients)."""
    header = request.headers.get("authorization")
    if not header:
        raise HTTPException(401, "missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in SCHEMES or not value.strip():
        raise HTTPException(401, "unsupported Authorization scheme: use 'Bearer <token>' or 'Token <token>'")
    return value.strip()


def _principal_cache(request: Request) -> PrincipalCache:
    cache: PrincipalCache | None = getattr(request.app.state, "principal_cache", None)
    if cache is None:
        cache = request.app.state.principal_cache = PrincipalCache(ttl=PRINCIPAL_TTL_SECONDS)
    return cache


async def principal(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Principal:
    token = presented_token(request)
    cache = _principal_cache(request)
    found = cache.cached(token)
    if found is None:

        def load() -> Principal | None:
            with Session(engine) as session:
                authenticated = authenticate(session=session, token=token)
                session.commit()
                return cache.put(token, authenticated)

        found = await run_in_threadpool(load)
    if found is None:
        raise HTTPException(401, "unknown or revoked token")
    return found


async def admin_principal(p: Annotated[Principal, Depends(principal)]) -> Principal:
    if not p.is_admin:
        raise HTTPException(403, f"token {p.name!r} has scope {p.scope!r}; this needs an admin token")
    return p


IngestToken = Annotated[Principal, Depends(principal)]
AdminToken = Annotated[Principal, Depends(admin_principal)]
