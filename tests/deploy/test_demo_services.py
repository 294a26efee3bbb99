"""The demo services fail for real: each run here is a real process writing real, rotated log files.

Rounds are a fixed mix shuffled by the seed, so N whole rounds give exact counts of every failure.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.deploy.records import Record, all_records, read_records, run_service, service_argv

ROUND = {"load_ftp": 8, "load_mail": 7, "consolidate": 9}  # cycles per round (the services' mix)


def error_types(records: list[Record]) -> Counter[str]:
    return Counter(r.error_type for r in records if r.error_type)


def test_load_ftp_fails_with_real_exceptions_and_rotates(tmp_path: Path) -> None:
    rounds = 4
    done = run_service(
        "load_ftp", tmp_path, "--cycles", str(rounds * ROUND["load_ftp"]), "--rate", "0",
        "--max-bytes", "4096", "--seed", "7",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = all_records(tmp_path / "logs", "load_ftp")
    assert error_types(records) == {"ConnectionRefusedError": 4, "TimeoutError": 4, "zipfile.BadZipFile": 4}
    assert (tmp_path / "logs" / "load_ftp.log.1").exists(), "RotatingFileHandler never rotated"
    assert len(list((tmp_path / "logs").glob("load_ftp.log.*"))) >= 2
    # Every error names its supplier the way the agent's supplier_pattern expects.
    errors = [r for r in records if r.level == "ERROR"]
    assert errors and all(re.search(r"supplier=[A-Z]+", r.message) for r in errors)
    # One supplier stops sending after the first round, and is reported as stale, by name.
    stale = [r for r in records if r.message.startswith("no price list from supplier=")]
    assert stale and len({r.message.split()[4] for r in stale}) == 1
    assert all(r.level == "ERROR" and r.error_type is None for r in stale)
    # Each truncated download lies in the error directory with its reason beside it.
    rejected = sorted((tmp_path / "errors").glob("*.xlsx"))
    assert len(rejected) == 4
    for path in rejected:
        reason = path.with_name(path.name + ".err").read_text(encoding="utf-8")
        assert reason.startswith("zipfile.BadZipFile: File is not a zip file")
        assert f"file={path.name}" in reason and re.match(r"[A-Z]+_", path.name)
    assert not list((tmp_path / "inbox").iterdir()), "successful downloads are cleaned up"


def test_load_mail_fails_on_encoding_and_zip(tmp_path: Path) -> None:
    done = run_service(
        "load_mail", tmp_path, "--cycles", str(3 * ROUND["load_mail"]), "--rate", "0", "--seed", "3"
    )
    assert done.returncode == 0, done.stderr
    records = all_records(tmp_path / "logs", "load_mail")
    assert error_types(records) == {"UnicodeDecodeError": 3, "zipfile.BadZipFile": 3}
    decode = next(r for r in records if r.error_type == "UnicodeDecodeError")
    assert "'utf-8' codec can't decode byte" in decode.lines[-1]
    warnings = [r for r in records if r.level == "WARNING"]
    assert len(warnings) == 3 and all("has no price list attached" in r.message for r in warnings)
    reasons = sorted(p.read_text(encoding="utf-8") for p in (tmp_path / "errors").glob("*.err"))
    assert len(reasons) == 6
    assert sum(r.startswith("UnicodeDecodeError: ") for r in reasons) == 3
    assert sum(r.startswith("zipfile.BadZipFile: ") for r in reasons) == 3
    assert len(list((tmp_path / "errors").glob("*.csv"))) == 3


def test_consolidate_fails_on_decimals_and_network_and_rotates_by_time(tmp_path: Path) -> None:
    rounds = 3
    done = run_service(
        "consolidate", tmp_path, "--cycles", str(rounds * ROUND["consolidate"]), "--rate", "8",
        "--rotate-seconds", "1", "--seed", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    logs = tmp_path / "logs"
    records = all_records(logs, "consolidate")
    assert error_types(records) == {
        "decimal.InvalidOperation": 3,
        "ConnectionRefusedError": 3,
        "TimeoutError": 3,
    }
    invalid = next(r for r in records if r.error_type == "decimal.InvalidOperation")
    assert "ConversionSyntax" in invalid.lines[-1] and "value=" in invalid.message
    rotated = [p.name for p in logs.glob("consolidate.log.*")]
    assert rotated, "TimedRotatingFileHandler never rotated"
    assert all(re.fullmatch(r"consolidate\.log\.\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", n) for n in rotated)
    assert sum(1 for r in records if r.level == "WARNING" and "rows without quantity" in r.message) == 3


def _story(root: Path, seed: int) -> list[tuple[str, str, str]]:
    done = run_service("load_ftp", root, "--cycles", "24", "--rate", "0", "--seed", str(seed))
    assert done.returncode == 0, done.stderr
    # Digits vary (ports, times, file serials); the story must not.
    return [
        (r.logger, r.level, re.sub(r"\d+", "N", r.message))
        for r in read_records(root / "logs" / "load_ftp.log")
    ]


def test_same_seed_same_story(tmp_path: Path) -> None:
    first, again, other = _story(tmp_path / "a", 11), _story(tmp_path / "b", 11), _story(tmp_path / "c", 12)
    assert first == again
    assert first != other


def test_sigterm_stops_a_service_cleanly(tmp_path: Path) -> None:
    argv = service_argv("load_mail", tmp_path, "--rate", "20")
    process = subprocess.Popen(argv, stderr=subprocess.PIPE)
    log = tmp_path / "logs" / "load_mail.log"
    deadline = time.monotonic() + 30
    while not (log.exists() and "loaded price list" in log.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline and process.poll() is None, "the service did not get going"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert read_records(log)[-1].message.startswith("load_mail stopped after ")


@pytest.mark.parametrize("service", sorted(ROUND))
def test_bad_arguments_are_refused(service: str, tmp_path: Path) -> None:
    done = run_service(service, tmp_path, "--max-bytes", "10")
    assert done.returncode == 2 and "--max-bytes" in done.stderr
