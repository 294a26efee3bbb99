"""Message normalisation: realistic messages from load_mail, load_ftp and consolidate that must (or must
not) end up in one investigation, the exact placeholders, and input that must not stall the collector."""

from __future__ import annotations

import time

import pytest

from collector.normalise import PLACEHOLDERS, first_line, normalise_message

# (case, one message, another) — the two differ only in values and must normalise to the same text.
SAME: list[tuple[str, str, str]] = [
    (
        "ftp 550, other dated file and directory",
        "error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory",
        "error_perm: 550 /outgoing/archive/prices_20240415.csv: No such file or directory",
    ),
    (
        "ftp 550, bare dated file name",
        "550 prices_2024-03-01.xlsx: No such file or directory",
        "550 supplier42_20240415.csv: No such file or directory",
    ),
    (
        "ftp 530 for different users",
        "530 Login authentication failed for user 'acme_prices'",
        "530 Login authentication failed for user 'bertrand42'",
    ),
    (
        "ftp 421 with a counter",
        "421 Too many connections (8) from this IP",
        "421 Too many connections (12) from this IP",
    ),
    (
        "timed out, extra lines and spaces",
        "timed out",
        "  timed   out \n  while reading the directory listing",
    ),
    (
        "connection timed out to other hosts",
        "Could not connect to 10.0.0.5:21: [Errno 110] Connection timed out",
        "Could not connect to 192.168.14.200:2121: [Errno 110] Connection timed out",
    ),
    (
        "ssl handshake timeout across Python versions",
        "TimeoutError: _ssl.c:980: The handshake operation timed out",
        "TimeoutError: _ssl.c:1002: The handshake operation timed out",
    ),
    (
        "connection refused, other host:port",
        "ConnectionRefusedError: [Errno 111] Connection refused (ftp at 10.1.2.3:21)",
        "ConnectionRefusedError: [Errno 111] Connection refused (ftp at 172.16.0.40:2121)",
    ),
    (
        "connection refused, IPv6 with port",
        "[Errno 111] Connection refused: [2001:db8::10]:21",
        "[Errno 111] Connection refused: [fe80::1:2ff:fe3a:4b5c]:990",
    ),
    (
        "connection refused, address tuple",
        "ConnectionRefusedError: [Errno 111] Connect call failed ('10.0.0.5', 21)",
        "ConnectionRefusedError: [Errno 111] Connect call failed ('10.20.30.40', 2121)",
    ),
    (
        "imap login failure for different mailboxes",
        "login prices@acme-supplies.de: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
        "login orders@bertrand-wholesale.co.uk: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
    ),
    (
        "imap reply naming the user",
        "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Authentication failed for prices@acme.de'",
        "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Authentication failed for stock@bertrand.fr'",
    ),
    (
        "bad zip, quoted paths with and without spaces",
        "zipfile.BadZipFile: File is not a zip file: '/data/in/acme/prices_0301.xlsx'",
        "zipfile.BadZipFile: File is not a zip file: '/data/in/bertrand/Price List March.xlsx'",
    ),
    (
        "bad zip, unquoted Windows paths",
        r"BadZipFile: File is not a zip file: C:\exchange\acme\prices_0301.xlsx",
        r"BadZipFile: File is not a zip file: C:\exchange\Bertrand GmbH\Preisliste.xlsx",
    ),
    (
        "missing member of an xlsx",
        "KeyError: \"There is no item named 'xl/sharedStrings.xml' in the archive\"",
        "KeyError: \"There is no item named 'xl/worksheets/sheet3.xml' in the archive\"",
    ),
    (
        "utf-8 decode, other byte and position",
        "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 1234: invalid start byte",
        "UnicodeDecodeError: 'utf-8' codec can't decode byte 0x9c in position 7: invalid start byte",
    ),
    (
        "utf-8 decode, byte ranges",
        "'utf-8' codec can't decode bytes in position 12-13: invalid continuation byte",
        "'utf-8' codec can't decode bytes in position 4096-4097: invalid continuation byte",
    ),
    (
        "decimal conversion on other rows",
        "row 1532: decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]",
        "row 7: decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]",
    ),
    (
        "float conversion of other values",
        "could not convert string to float: '12,50'",
        "could not convert string to float: '1 234,50'",
    ),
    (
        "float conversion of text",
        "could not convert string to float: 'N/A'",
        "could not convert string to float: ''",
    ),
    (
        "order uuids",
        "order 3f2b8c1e-9a4d-4e7b-8c2a-1d2e3f4a5b6c not found",
        "order {9C2A1D2E-3F4A-4B6C-8E7B-3F2B8C1E9A4D} not found",
    ),
    (
        "order numbers",
        "order #100234 rejected: no price for SKU AB12345",
        "order #99 rejected: no price for SKU AB98765",
    ),
    ("order ids with a prefix", "duplicate order ORD-2024-000123", "duplicate order ORD-2023-981"),
    ("row numbers", "row 1532: price is empty", "row 7: price is empty"),
    (
        "ISO timestamps",
        "feed stale since 2024-03-01T06:00:00Z",
        "feed stale since 2024-03-04T06:30:12.512+01:00",
    ),
    ("local dates and times", "last upload 01.03.2024 06:00", "last upload 15.04.2024 18:45:10"),
    (
        "mail dates",
        "message dated Fri, 01 Mar 2024 06:00:00 +0100 skipped",
        "message dated Mon, 15 Apr 2024 18:45:10 +0200 skipped",
    ),
    (
        "object addresses",
        "cannot pickle <openpyxl.reader.excel.ExcelReader object at 0x7f3a9c2b1d40>",
        "cannot pickle <openpyxl.reader.excel.ExcelReader object at 0x7f00deadbeef>",
    ),
    ("checksums", "checksum 9f86d081884c7d65 does not match", "checksum 60303ae22b998861 does not match"),
    (
        "urls",
        "HTTPError: 503 Server Error: Service Unavailable for url: https://api.acme.de/v2/prices?date=2024-03-01&page=2",
        "HTTPError: 503 Server Error: Service Unavailable for url: https://api.acme.de/v2/prices?date=2024-04-15",
    ),
    (
        "repr'd Windows paths",
        r"PermissionError: [Errno 13] Permission denied: 'C:\\exchange\\acme\\prices_0301.xlsx'",
        r"PermissionError: [Errno 13] Permission denied: 'D:\\in\\bertrand.xlsx'",
    ),
    (
        "relative paths",
        "cannot parse incoming/acme/2024/prices.csv",
        "cannot parse incoming/bertrand/stock.xlsx",
    ),
    (
        "UNC paths",
        r"share offline: \\fileserver\prices\acme.csv",
        r"share offline: \\nas01\in\bertrand_0301.xlsx",
    ),
    (
        "sizes and durations",
        "upload of 1532 rows took 12.5s (limit 10s)",
        "upload of 8 rows took 300.25s (limit 10s)",
    ),
    (
        "a whole traceback sent as the message",
        'Traceback (most recent call last):\n  File "a.py", line 3, in <module>\nValueError: bad row 12',
        'Traceback (most recent call last):\n  File "b.py", line 9, in run\nValueError: bad row 4',
    ),
]

# (case, one message, another) — different problems that must stay apart.
DIFFERENT: list[tuple[str, str, str]] = [
    ("530 vs 550", "530 Login incorrect.", "550 /outgoing/prices_20240301.csv: No such file or directory"),
    ("bare timeout vs errno timeout", "timed out", "[Errno 110] Connection timed out"),
    ("timed out vs refused", "[Errno 110] Connection timed out", "[Errno 111] Connection refused"),
    (
        "handshake vs read timeout",
        "TimeoutError: _ssl.c:980: The handshake operation timed out",
        "TimeoutError: _ssl.c:980: The read operation timed out",
    ),
    (
        "imap: wrong password vs server unavailable",
        "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
        "imaplib.IMAP4.error: b'[UNAVAILABLE] Temporary authentication failure'",
    ),
    (
        "not a zip vs corrupt zip",
        "zipfile.BadZipFile: File is not a zip file",
        "zipfile.BadZipFile: Bad magic number for central directory",
    ),
    (
        "invalid start byte vs invalid continuation byte",
        "'utf-8' codec can't decode byte 0xff in position 12: invalid start byte",
        "'utf-8' codec can't decode byte 0xff in position 12: invalid continuation byte",
    ),
    (
        "decimal conditions are kinds, not values",
        "decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]",
        "decimal.InvalidOperation: [<class 'decimal.DivisionUndefined'>]",
    ),
    (
        "float vs int conversion",
        "could not convert string to float: '12,50'",
        "invalid literal for int() with base 10: '12,50'",
    ),
    (
        "missing xlsx member vs missing worksheet",
        "KeyError: \"There is no item named 'xl/sharedStrings.xml' in the archive\"",
        "KeyError: 'Worksheet Prices does not exist.'",
    ),
    ("I/O error is not a path", "[Errno 5] Input/output error", "[Errno 5] Input/output errors ignored"),
    ("only the first line counts, and it differs", "price is empty\nrow 5", "price is negative\nrow 5"),
    ("column names in prose stay", "column Price missing in sheet", "column Stock missing in sheet"),
]

# (message, the exact normalised text) — every placeholder, and what is deliberately left alone.
EXPECTED: list[tuple[str, str]] = [
    (
        "error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory",
        "error_perm: <num> <path>: No such file or directory",
    ),
    ("530 Login incorrect.", "<num> Login incorrect."),
    ("timed out", "timed out"),
    (
        "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 1234: invalid start byte",
        "UnicodeDecodeError: <str> codec can't decode byte <hex> in position <num>: invalid start byte",
    ),
    (
        "decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]",
        "decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]",
    ),
    (
        "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
        "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'",
    ),
    ("order 3f2b8c1e-9a4d-4e7b-8c2a-1d2e3f4a5b6c failed", "order <uuid> failed"),
    (
        "stale since 2024-03-01T06:00:00.123Z and 2024-03-01 06:00:00,123",
        "stale since <datetime> and <datetime>",
    ),
    (
        "due 2024-03-01, 01.03.2024, 2024/03/01, 1 Mar 2024, March 1, 2024",
        "due <date>, <date>, <date>, <date>, <date>",
    ),
    ("at 06:00, 18:45:10.5 and 9:05 PM", "at <time>, <time> and <time>"),
    ("from 10.0.0.5:2121 and 10.0.0.6", "from <ip> and <ip>"),
    ("from [2001:db8::1]:21, fe80::1%eth0 and ::ffff:10.1.2.3", "from <ip>, <ip> and <ip>"),
    ("mailbox prices+acme@supplier-mail.co.uk is full", "mailbox <email> is full"),
    ("see https://api.acme.de/v2/prices?page=2. Retrying", "see <url>. Retrying"),
    ("could not convert string to float: '12,50'", "could not convert string to float: <str>"),
    ("missing /data/in/acme/prices.xlsx.", "missing <path>."),
    (r"missing C:\exchange\Bertrand GmbH\prices.xlsx now", "missing <path> now"),
    ("missing incoming/acme/prices.csv", "missing <path>"),
    ("got supplier42_20240301.csv.gz and PRICES_2024-03-01.XLSX", "got <file> and <file>"),
    ("row 1532 of 12,000.50 rows", "row <num> of <num> rows"),
    # names with digits glued to letters stay; long runs do not
    (
        "encoding cp1251 via sha256 for supplier42, sku XZ1234567",
        "encoding cp1251 via sha256 for supplier42, sku XZ<num>",
    ),
    # plain files, prose with slashes and apostrophes, month-like words stay
    (
        "can't open config.yaml: Input/output error and/or decode failure on Monday",
        "can't open config.yaml: Input/output error and/or decode failure on Monday",
    ),
    ("   lots\tof   space  ", "lots of space"),
    ("", ""),
]


@pytest.mark.parametrize(("case", "one", "other"), SAME, ids=[case for case, _, _ in SAME])
def test_values_do_not_split_a_group(case: str, one: str, other: str) -> None:
    assert normalise_message(one) == normalise_message(other)
    assert one != other


@pytest.mark.parametrize(("case", "one", "other"), DIFFERENT, ids=[case for case, _, _ in DIFFERENT])
def test_different_problems_stay_apart(case: str, one: str, other: str) -> None:
    assert normalise_message(one) != normalise_message(other)


@pytest.mark.parametrize(("message", "expected"), EXPECTED)
def test_exact_normalisation(message: str, expected: str) -> None:
    assert normalise_message(message) == expected


def test_every_placeholder_is_exercised_by_the_table() -> None:
    produced = {token for _, expected in EXPECTED for token in PLACEHOLDERS if token in expected}
    assert produced == PLACEHOLDERS


def test_normalising_is_idempotent() -> None:
    for _, one, other in SAME:
        for message in (one, other):
            once = normalise_message(message)
            assert normalise_message(once) == once


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("first\nsecond", "first"),
        ("\n\n  \t\n  first   line \r\nsecond", "first line"),
        ("   ", ""),
        (
            "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nKeyError: 'sku'\n",
            "KeyError: 'sku'",
        ),
    ],
)
def test_first_line(message: str, line: str) -> None:
    assert first_line(message) == line


PATHOLOGICAL_UNITS = [
    "a", "1", "'", '"', " '", "/", "a/", "\\", "C:\\a ", "a.", "1.", "1:", "::", "0x", "a@", "@a.", " 'a",
    "'a\\'", "http://", "1-", "ab12", "[::1]", "../", "a_1.csv ", "<class '", "Mon, 1 Mar ", "b'", "1 ",
    "a'a ", "12:30 ", "1.2.3.4.", "f:", "-", "ffff:",
]  # fmt: skip


@pytest.mark.parametrize("unit", PATHOLOGICAL_UNITS)
def test_pathological_input_is_linear(unit: str) -> None:
    body = (unit * (65536 // len(unit) + 1))[:65536]
    for message in (body, body[:-1] + "1", "x" + body[:-1]):
        started = time.perf_counter()
        normalise_message(message)
        # catastrophic backtracking takes minutes; a linear scan of 64 KiB takes well under 0.2 s
        assert time.perf_counter() - started < 2.0, unit


def test_typical_messages_are_fast() -> None:
    messages = [message for _, one, other in SAME for message in (one, other)]
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        for message in messages:
            normalise_message(message)
    per_message = (time.perf_counter() - started) / (rounds * len(messages))
    # measured around 10 µs; the bound only catches a pattern that went super-linear or a lost skip path
    assert per_message < 200e-6
