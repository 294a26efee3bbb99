"""``POST /api/v1/pricelens/log_event/``: authenticate, read within limits, validate, hand to the core."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError

from collector.api.deps import IngestToken, SettingsDep
from collector.api.ingest_writer import group_writer, store_events
from collector.body import BodyError, parse_json, read_limited
from collector.core import BatchOutcome
from collector.metrics import EVENTS_ACCEPTED, EVENTS_DUPLICATE, EVENTS_REJECTED
from collector.ratelimit import retry_after_header
from collector.schemas import (
    MAX_BATCH,
    NUL_FREE,
    SERVICE_PATTERN,
    ErrorDetail,
    EventIn,
    IngestResult,
    Rejection,
    nul_free,
)

router = APIRouter(prefix="/api/v1/pricelens", tags=["ingest"])
# Requests of at most this many events go through the group writer (one shared transaction).
GROUP_REQUEST_EVENTS = 10
EVENT_LIST = TypeAdapter(list[EventIn])
SERVICE_NAME = re.compile(SERVICE_PATTERN)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorDetail, "description": text}
    for code, text in {
        401: "missing, unknown or revoked token",
        403: "token scope or service binding refuses this",
        413: "body larger than 5 MiB decompressed",
        415: "body is not JSON",
        422: "malformed JSON, not an object, invalid single event, or batch over 1000",
        429: "token over its rate; see Retry-After",
        503: "database unavailable; see Retry-After",
    }.items()
}


def describe(exc: ValidationError) -> str:
    """Validation errors in words that name the field."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _validate_batch(raw: Any, context: dict[str, Any]) -> tuple[list[tuple[int, EventIn]], list[Rejection]]:
    if isinstance(raw, dict) and "events" in raw:
        items = raw["events"]
        if not isinstance(items, list) or not items:
            raise HTTPException(422, "'events' must be a non-empty list of event objects")
        if len(items) > MAX_BATCH:
            raise HTTPException(422, f"a batch holds at most {MAX_BATCH} events (got {len(items)})")
        try:  # the usual case, every event valid: one call validates the whole list
            return list(enumerate(EVENT_LIST.validate_python(items, context=context))), []
        except ValidationError:
            pass  # again one by one, so each rejection names its event and the others are kept
        valid: list[tuple[int, EventIn]] = []
        rejected: list[Rejection] = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                rejected.append(Rejection(index=i, error="event must be a JSON object"))
                continue
            try:
                valid.append((i, EventIn.model_validate(item, context=context)))
            except ValidationError as exc:
                rejected.append(Rejection(index=i, error=describe(exc)))
        return valid, rejected
    if not isinstance(raw, dict):
        raise HTTPException(422, 'body must be a JSON object: one event, or {"events": [...]}')
    try:
        return [(0, EventIn.model_validate(raw, context=context))], []
    except ValidationError as exc:
        raise HTTPException(422, describe(exc)) from exc


@router.post(
    "/log_event/",
    response_model=IngestResult,
    responses=ERROR_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/EventIn"},
                            {"$ref": "#/components/schemas/EventBatchIn"},
                        ]
                    }
                }
            },
        }
    },
    summary="Report one event or a batch of events",
)
async def log_event(request: Request, principal: IngestToken, settings: SettingsDep) -> Response:
    wait = request.app.state.rate_limiter.acquire(principal.name)
    if wait:
        raise HTTPException(
            429,
            f"token {principal.name!r} is over its rate of {settings.rate_limit_per_second:g} requests/s",
            headers={"Retry-After": retry_after_header(wait)},
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, f"Content-Type must be application/json (got {content_type or 'none'!r})")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise HTTPException(415, f"Content-Encoding must be gzip or absent (got {encoding!r})")
    declared = request.headers.get("content-length")
    if encoding == "identity" and declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise HTTPException(413, f"request body is larger than {settings.max_body_bytes // 2**20} MiB")
    try:
        body = await read_limited(request.stream(), gzipped=encoding == "gzip", limit=settings.max_body_bytes)
        raw = parse_json(body)
    except BodyError as exc:
        raise HTTPException(exc.status, exc.detail) from exc

    valid, rejected = _validate_batch(raw, {NUL_FREE: nul_free(body)})
    if principal.service:
        foreign = sorted({e.service for _, e in valid if e.service != principal.service})
        if foreign:
            raise HTTPException(
                403,
                f"token {principal.name!r} may only report service {principal.service!r}"
                f" (got {', '.join(foreign)})",
            )
    events = [e for _, e in valid]
    for r in rejected:
        item = raw["events"][r.index] if isinstance(raw, dict) else None
        service = item.get("service") if isinstance(item, dict) else None
        # Only well-formed service names become label values: a bad client cannot grow the metric set.
        valid_name = isinstance(service, str) and SERVICE_NAME.fullmatch(service)
        EVENTS_REJECTED.labels(service if valid_name else "-").inc()
    if not events:
        outcome = BatchOutcome()
    elif len(events) <= GROUP_REQUEST_EVENTS:
        outcome = await group_writer(request.app).write(events)
    else:
        outcome = await run_in_threadpool(store_events, request.app.state.engine, events)
    counts = Counter((e.service, o.duplicate) for e, o in zip(events, outcome.outcomes, strict=True))
    for (service, duplicate), n in counts.items():
        (EVENTS_DUPLICATE if duplicate else EVENTS_ACCEPTED).labels(service).inc(n)
    result = IngestResult(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=rejected,
        investigations=outcome.investigation_ids,
    )
    # Serialised here with orjson: returning the model would validate and encode it a second time.
    return Response(orjson.dumps(result.model_dump()), media_type="application/json")
