"""Connecting to the team's ClickHouse, and saying in words what went wrong when it does not answer.

Jobs receive a :class:`ClickHouse` (anything with clickhouse-driver's ``execute``) so tests can hand them
a real server, an embedded engine or a broken one; this module builds the real one from
``PRICELENS_CLICKHOUSE_URL`` and turns driver exceptions into messages an operator can act on.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors
from clickhouse_driver.util.helpers import parse_url

from collector.settings import Settings

NOT_CONFIGURED = "ClickHouse not configured"
TIMEOUT_EXCEEDED = 159  # ClickHouse's TIMEOUT_EXCEEDED error code (max_execution_time)


class ClickHouse(Protocol):
    """The one method the jobs use: clickhouse-driver's ``Client.execute``."""

    def execute(self, query: str, params: dict[str, Any] | None = None) -> Any: ...


class ClickHouseNotConfiguredError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(NOT_CONFIGURED)


def connect(settings: Settings) -> Client:
    """A client for ``settings.clickhouse_url`` (``clickhouse://`` or ``clickhouses://`` for TLS).

    The driver connects lazily, so an unreachable server shows up at the first query, where
    :func:`describe_error` explains it. Timeouts are bounded on both sides: the socket (slow or hung
    server) and ``max_execution_time`` (a query that runs too long is cancelled by ClickHouse itself).
    """
    if not settings.clickhouse_url:
        raise ClickHouseNotConfiguredError()
    if not settings.clickhouse_url.startswith(("clickhouse://", "clickhouses://")):
        raise ValueError("PRICELENS_CLICKHOUSE_URL must start with clickhouse:// or clickhouses://")
    host, options = parse_url(settings.clickhouse_url)
    timeout = settings.ch_query_timeout_seconds
    options.update(
        connect_timeout=settings.ch_connect_timeout_seconds,
        # A little above the server-side limit, so the server's own, clearer error wins when it can.
        send_receive_timeout=timeout + 2,
        sync_request_timeout=settings.ch_connect_timeout_seconds,
    )
    options.setdefault("settings", {})["max_execution_time"] = timeout
    return Client(host, **options)


def describe_error(exc: BaseException, settings: Settings) -> str:
    """A one-line account of a ClickHouse failure, without a stack trace."""
    if isinstance(exc, ClickHouseNotConfiguredError):
        return NOT_CONFIGURED
    if isinstance(exc, ch_errors.ServerException) and exc.code == TIMEOUT_EXCEEDED:
        return (
            f"ClickHouse query exceeded the time limit of {settings.ch_query_timeout_seconds} s "
            "(PRICELENS_CH_QUERY_TIMEOUT_SECONDS)"
        )
    if isinstance(exc, ch_errors.SocketTimeoutError | socket.timeout):
        return f"ClickHouse did not answer in time: {exc}"
    if isinstance(exc, ch_errors.NetworkError | OSError):
        return f"ClickHouse unreachable: {exc}"
    if isinstance(exc, ch_errors.ServerException):
        first_line = str(exc.message).strip().splitlines()[0] if exc.message else ""
        return f"ClickHouse error {exc.code}: {first_line[:500]}"
    return f"{type(exc).__name__}: {str(exc)[:500]}"
