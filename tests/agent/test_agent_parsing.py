"""Parsing, identity and event ids: pure, table-driven."""

from __future__ import annotations

import logging
import re

import pytest

from agent.framing import RawRecord
from agent.identity import FINGERPRINT_BYTES, event_id, fingerprint, identifiable, successor
from agent.parsing import (
    DEFAULT_LAYOUT,
    Parser,
    ParseSpec,
    error_type_of,
    iso_timestamp,
    layout_regex,
)


def parser(kind: str = "python", layout: str = DEFAULT_LAYOUT, pattern: str | None = None) -> Parser:
    first = (
        re.compile(layout_regex(layout)) if kind == "python" else (re.compile(pattern) if pattern else None)
    )
    return Parser(
        ParseSpec(
            service="load_ftp",
            host="h1",
            kind=kind,
            first_line=first,
            supplier_pattern=re.compile(r"supplier[=: ](?P<supplier>[A-Za-z0-9_-]+)"),
            supplier_from_path=re.compile(r"/(?P<supplier>[^/_]+)_[^/]*$"),
            file_pattern=re.compile(r"(?P<file>[\w.-]+\.(?:xlsx|csv|zip))"),
            default_level="ERROR",
        )
    )


def real_logged_record(tmp_path, fmt: str = DEFAULT_LAYOUT) -> str:
    """A record written by logging.exception on a really raised, chained exception."""
    path = tmp_path / "x.log"
    logger = logging.getLogger(f"load_ftp.real.{id(path)}")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(fmt))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            import zipfile

            zipfile.ZipFile(__file__)
        except zipfile.BadZipFile as exc:
            raise RuntimeError("load failed for supplier=acme file prices_0501.xlsx") from exc
    except RuntimeError:
        logger.exception("could not load supplier=acme prices_0501.xlsx")
    handler.close()
    logger.removeHandler(handler)
    return path.read_text()


def test_logger_exception_record(tmp_path) -> None:
    text = real_logged_record(tmp_path)
    event = parser().parse(
        RawRecord(7, text.rstrip("\n").encode(), False), event_id="e1", path="/l/acme_x.log"
    )
    assert event["message"] == "could not load supplier=acme prices_0501.xlsx"
    assert event["level"] == "ERROR"
    assert event["logger"].startswith("load_ftp.real.")
    assert event["error_type"] == "RuntimeError"
    assert "zipfile.BadZipFile" in event["traceback"]
    assert "The above exception was the direct cause" in event["traceback"]
    assert event["traceback"].startswith("Traceback (most recent call last):")
    assert event["supplier"] == "acme"
    assert event["file"] == "prices_0501.xlsx"
    assert event["extra"] == {"path": "/l/acme_x.log", "offset": 7}
    assert event["timestamp"][:4].isdigit() and (
        "+" in event["timestamp"][19:] or "-" in event["timestamp"][19:]
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["Traceback (most recent call last):", '  File "x", line 1, in f', "ValueError: bad"], "ValueError"),
        (
            ["Traceback (most recent call last):", "  x", "zipfile.BadZipFile: File is not a zip file"],
            "zipfile.BadZipFile",
        ),
        (["Traceback (most recent call last):", "  x", "KeyError"], "KeyError"),
        (
            [
                "Traceback (most recent call last):",
                "  x",
                "ValueError: a",
                "",
                "During handling of the above exception, another exception occurred:",
                "",
                "Traceback (most recent call last):",
                "  y",
                "ftplib.error_perm: 550 no such file",
            ],
            "ftplib.error_perm",
        ),
        (["no traceback here"], None),
    ],
)
def test_error_type(lines: list[str], expected: str | None) -> None:
    assert error_type_of(lines) == expected


@pytest.mark.parametrize(
    ("layout", "line", "level", "message"),
    [
        (
            DEFAULT_LAYOUT,
            "2024-05-01 12:00:00,123 - a.b - ERROR - boom - with dashes",
            "ERROR",
            "boom - with dashes",
        ),
        (
            "%(asctime)s [%(levelname)-8s] %(name)s: %(message)s",
            "2024-05-01 12:00:00,123 [WARNING ] a: hi",
            "WARNING",
            "hi",
        ),
        ("%(levelname)s:%(name)s:%(message)s", "CRITICAL:root:disk full", "CRITICAL", "disk full"),
    ],
)
def test_layouts(layout: str, line: str, level: str, message: str) -> None:
    event = parser(layout=layout).parse(RawRecord(0, line.encode(), False), event_id="e", path="/p")
    assert (event["level"], event["message"]) == (level, message)


def test_invalid_utf8_becomes_replacement_characters() -> None:
    raw = b"2024-05-01 12:00:00,123 - a - ERROR - caf\xe9 \xff"
    event = parser().parse(RawRecord(0, raw, True), event_id="e", path="/p")
    assert event["message"] == "caf\ufffd \ufffd"
    assert event["extra"]["truncated"] is True


def test_json_record() -> None:
    raw = (
        b'{"timestamp": "2024-05-01T12:00:00Z", "level": "error", "message": "supplier=zeta failed",'
        b' "logger": "svc", "traceback": "Traceback (most recent call last):\\n  x\\nOSError: gone"}'
    )
    event = parser("json").parse(RawRecord(0, raw, False), event_id="e", path="/p")
    assert event["level"] == "ERROR"
    assert event["timestamp"] == "2024-05-01T12:00:00+00:00"
    assert event["error_type"] == "OSError"
    assert event["supplier"] == "zeta"


def test_regex_record_and_supplier_from_path() -> None:
    p = parser("regex", pattern=r"\[(?P<level>\w+)\] (?P<message>.*)")
    event = p.parse(RawRecord(0, b"[error] it broke", False), event_id="e", path="/srv/errors/beta_0501.xlsx")
    assert (event["level"], event["message"], event["supplier"]) == ("ERROR", "it broke", "beta")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00+02:00"),
        ("nonsense", None),
        ("2024-05-01 12:00:00Z", "2024-05-01T12:00:00+00:00"),
    ],
)
def test_iso_timestamp(raw: str, expected: str | None) -> None:
    assert iso_timestamp(raw) == expected


@pytest.mark.parametrize(
    ("head", "quiet", "ok"),
    [
        (b"x" * FINGERPRINT_BYTES, False, True),
        (b"short line\n", False, False),
        (b"short line\n", True, True),
        (b"no newline yet", True, False),
    ],
)
def test_identifiable(head: bytes, quiet: bool, ok: bool) -> None:
    assert identifiable(head, quiet) is ok


def test_fingerprint_is_of_the_prefix_only() -> None:
    assert fingerprint(b"a" * 10) == fingerprint(b"a" * 10) != fingerprint(b"a" * 11)


def test_event_ids_are_deterministic_and_positional() -> None:
    a = event_id("h", "svc", "fp", 10)
    assert a == event_id("h", "svc", "fp", 10)
    assert (
        len(
            {
                a,
                event_id("h", "svc", "fp", 11),
                event_id("h2", "svc", "fp", 10),
                event_id("h", "svc", "fp2", 10),
            }
        )
        == 4
    )
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", a)
    assert successor("fp", 10) == successor("fp", 10) != successor("fp", 11)
