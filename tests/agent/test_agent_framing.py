"""Framing is pure: records out of bytes, whatever the chunking, with resumable offsets."""

from __future__ import annotations

import pytest

from agent.framing import Framer, RawRecord, looks_unfinished
from agent.parsing import DEFAULT_LAYOUT, line_format

TS = "2024-05-01 12:00:00,123"
INFO = f"{TS} - app - INFO - all good\n"
ERR = f"{TS} - app - ERROR - failed supplier=acme\n"
WARN = f"{TS} - app - WARNING - careful\n"
TB = (
    "Traceback (most recent call last):\n"
    '  File "/srv/x.py", line 1, in f\n'
    "    g()\n"
    "zipfile.BadZipFile: File is not a zip file\n"
)
CHAINED = (
    TB
    + "\nDuring handling of the above exception, another exception occurred:\n\n"
    + TB.replace("zipfile.BadZipFile: File is not a zip file", "RuntimeError: load failed")
)


def frame(
    text: bytes, *, chunk: int = 1 << 20, min_level: int = 30, final: bool = True, max_record: int = 1 << 20
) -> tuple[list[RawRecord], Framer]:
    fmt = line_format("python", layout=DEFAULT_LAYOUT, pattern=None, min_level=min_level)
    framer = Framer(fmt, min_level, 0, max_record)
    out: list[RawRecord] = []
    for i in range(0, len(text), chunk):
        out += framer.feed(text[i : i + chunk])
    out += framer.flush(final=final)
    return out, framer


CASES = [
    ("info only", INFO * 3, []),
    ("one error", INFO + ERR + INFO, [(len(INFO), ERR.rstrip("\n"))]),
    ("warning passes", WARN, [(0, WARN.rstrip("\n"))]),
    ("traceback belongs to error", ERR + TB + INFO, [(0, (ERR + TB).rstrip("\n"))]),
    ("chained exceptions", ERR + CHAINED + INFO, [(0, (ERR + CHAINED).rstrip("\n"))]),
    ("info traceback skipped", INFO + TB + ERR, [(len(INFO + TB), ERR.rstrip("\n"))]),
    ("two identical errors", ERR + ERR, [(0, ERR.rstrip("\n")), (len(ERR), ERR.rstrip("\n"))]),
    ("marker in continuation", INFO + "  - ERROR - not a record\n", []),
    ("error at end without next record", INFO + ERR + TB, [(len(INFO), (ERR + TB).rstrip("\n"))]),
]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_records_whatever_the_chunking(
    name: str, text: str, expected: list[tuple[int, str]], chunk: int
) -> None:
    records, framer = frame(text.encode(), chunk=chunk)
    assert [(r.offset, r.data.decode()) for r in records] == expected
    assert framer.committed == len(text.encode())


def test_min_level_error_drops_warnings() -> None:
    records, _ = frame((WARN + ERR).encode(), min_level=40)
    assert [r.offset for r in records] == [len(WARN)]


def test_incomplete_last_line_is_not_shipped_until_complete() -> None:
    fmt = line_format("python", layout=DEFAULT_LAYOUT, pattern=None, min_level=30)
    framer = Framer(fmt, 30, 0, 1 << 20)
    half = ERR[:20].encode()
    assert framer.feed(INFO.encode() + half) == []
    assert framer.flush() == []
    assert framer.committed == len(INFO)
    assert framer.feed(ERR[20:].encode()) == []
    records = framer.flush()
    assert [r.data.decode() for r in records] == [ERR.rstrip("\n")]
    assert framer.committed == len(INFO + ERR)


def test_pending_record_keeps_committed_at_its_start() -> None:
    fmt = line_format("python", layout=DEFAULT_LAYOUT, pattern=None, min_level=30)
    framer = Framer(fmt, 30, 100, 1 << 20)
    assert framer.feed((INFO + ERR + TB[:40]).encode()) == []
    assert framer.committed == 100 + len(INFO)
    assert framer.pending == (ERR + "Traceback (most recent call last):\n").encode()


def test_resuming_at_committed_offset_reframes_the_same_record() -> None:
    text = (INFO + ERR + TB + INFO).encode()
    fmt = line_format("python", layout=DEFAULT_LAYOUT, pattern=None, min_level=30)
    first = Framer(fmt, 30, 0, 1 << 20)
    first.feed(text[: len(INFO) + len(ERR) + 10])
    resume = first.committed
    second = Framer(fmt, 30, resume, 1 << 20)
    records = second.feed(text[resume:])
    assert [(r.offset, r.data) for r in records] == [(len(INFO), (ERR + TB).rstrip("\n").encode())]


def test_overlong_error_line_is_truncated_and_not_held() -> None:
    long_err = f"{TS} - app - ERROR - " + "x" * 50_000 + "\n"
    records, framer = frame((long_err + ERR).encode(), chunk=4096, max_record=2048)
    assert [(r.offset, r.truncated, len(r.data)) for r in records] == [
        (0, True, 2048),
        (len(long_err), False, len(ERR) - 1),
    ]
    assert len(framer._buf) < 8192


def test_overlong_info_line_is_skipped() -> None:
    text = (f"{TS} - app - INFO - " + "y" * 100_000 + "\n" + ERR).encode()
    records, _ = frame(text, chunk=4096, max_record=2048)
    assert [r.data.decode() for r in records] == [ERR.rstrip("\n")]


def test_huge_traceback_is_cut() -> None:
    frames = '  File "/x.py", line 1, in f\n' * 10_000
    text = (ERR + "Traceback (most recent call last):\n" + frames + "ValueError: x\n" + ERR).encode()
    records, _ = frame(text, chunk=8192, max_record=4096)
    assert [(r.offset, r.truncated) for r in records] == [(0, True), (len(text) - len(ERR), False)]


def test_invalid_utf8_and_binary_garbage_are_kept_as_bytes() -> None:
    text = INFO.encode() + b"\x00\xff\xfe garbage \x80\n" + ERR.encode()[:-1] + b" \xff\xfe\n"
    records, _ = frame(text)
    assert len(records) == 1 and records[0].data.endswith(b" \xff\xfe")


def test_final_flush_takes_last_line_without_newline() -> None:
    records, _ = frame((INFO + ERR.rstrip("\n")).encode(), final=True)
    assert [r.data.decode() for r in records] == [ERR.rstrip("\n")]


@pytest.mark.parametrize(
    ("text", "unfinished"),
    [
        (ERR, False),
        (ERR + TB, False),
        (ERR + "Traceback (most recent call last):\n", True),
        (ERR + TB.split("zipfile")[0], True),
        (ERR + TB + "\nDuring handling of the above exception, another exception occurred:\n", True),
    ],
)
def test_looks_unfinished(text: str, unfinished: bool) -> None:
    assert looks_unfinished(text.encode()) is unfinished


def test_json_lines_each_line_is_a_record() -> None:
    fmt = line_format("json", layout=DEFAULT_LAYOUT, pattern=None, min_level=30)
    framer = Framer(fmt, 30, 0, 1 << 20)
    lines = b'{"level": "info", "message": "a"}\n{"level": "error", "message": "b"}\n{"level": "INFO"}\n'
    records = framer.feed(lines)
    assert [r.data for r in records] == [b'{"level": "error", "message": "b"}']


def test_regex_format() -> None:
    pattern = r"\[(?P<level>\w+)\] (?P<timestamp>\S+) (?P<message>.*)"
    fmt = line_format("regex", layout=DEFAULT_LAYOUT, pattern=pattern, min_level=40)
    framer = Framer(fmt, 40, 0, 1 << 20)
    text = b"[info] t1 hello\n[error] t2 broken\n  detail line\n[warning] t3 meh\n"
    records = framer.feed(text)
    assert [r.data for r in records] == [b"[error] t2 broken\n  detail line"]


def test_tail_before_committed_comes_from_what_was_read() -> None:
    text = (INFO + ERR + INFO).encode()
    fmt = line_format("python", layout=DEFAULT_LAYOUT, pattern=None, min_level=30)
    framer = Framer(fmt, 30, 0, 1 << 20)
    framer.feed(text + b"2024")
    assert framer.committed == len(text)
    assert framer.tail_before_committed(10) == text[-10:]
    resumed = Framer(fmt, 30, 100, 1 << 20, before=b"xyz")
    assert resumed.tail_before_committed(3) == b"xyz"
    assert Framer(fmt, 30, 100, 1 << 20).tail_before_committed(3) is None


@pytest.mark.parametrize("level", ["ERROR", "INFO"])
def test_record_before_an_overlong_line_is_complete(level: str) -> None:
    huge = f"{TS} - app - {level} - " + "z" * 20_000 + "\n"
    records, framer = frame((ERR + huge + WARN).encode(), chunk=4096, max_record=2048)
    expected = [(0, False, ERR.rstrip("\n"))]
    if level == "ERROR":
        expected.append((len(ERR), True, huge[:2048]))
    expected.append((len(ERR + huge), False, WARN.rstrip("\n")))
    assert [(r.offset, r.truncated, r.data.decode()) for r in records] == expected
    assert framer.committed == len(ERR + huge + WARN)
