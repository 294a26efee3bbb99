"""``pricelens demo`` for real: a subprocess on a fresh data directory fills the API and the dashboard
with the demo services' failures, shipped by the real agent, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.live import free_port

pytestmark = pytest.mark.slow

EXPECTED_ERRORS = {
    "load_ftp": {"ConnectionRefusedError", "TimeoutError", "zipfile.BadZipFile"},
    "load_mail": {"UnicodeDecodeError", "zipfile.BadZipFile"},
    "consolidate": {"decimal.InvalidOperation", "ConnectionRefusedError", "TimeoutError"},
}


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Output:
    """The demo's stdout, read on a thread so the test can wait for lines with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m
        raise AssertionError(f"no {pattern!r} in the demo's output:\n{''.join(self.seen)}")


def investigations(url: str, token: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{url}/api/v1/pricelens/investigations/",
        params={"per_page": 200},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def error_types(items: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for item in items:
        if item["kind"] == "error" and ": " in item["title"]:
            found.setdefault(item["service"], set()).add(item["title"].split(": ", 1)[0])
    return found


def test_demo_fills_the_dashboard_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "demo-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICELENS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "collector.demo", "--data-dir", str(data), "--port", str(port), "--rate", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        output = Output(process)
        assert output.wait_for(r"dashboard\s+(\S+)", 90)[1] == f"{url}/"
        login = output.wait_for(r"login\s+(\S+) / (\S+)", 5)
        output.wait_for(r"Press Ctrl-C", 5)
        children = children_of(process.pid)
        assert len(children) == 5, "serve, agent and three services"

        token = (data / "agent" / "agent.token").read_text().strip()
        deadline = time.monotonic() + 60
        while True:
            items = investigations(url, token)
            found = error_types(items)
            rejected = {i["service"] for i in items if i["kind"] == "file_rejected"}
            stale = [i for i in items if i["title"].startswith("no price list from supplier=")]
            complete = all(found.get(s, set()) >= types for s, types in EXPECTED_ERRORS.items())
            if complete and rejected == {"load_ftp", "load_mail"} and stale:
                break
            assert time.monotonic() < deadline, (
                f"after 60 s: errors {found}, rejected {rejected}, stale {stale}"
            )
            assert process.poll() is None, "".join(output.seen)
            time.sleep(1)
        assert all(i["supplier"] for i in items), "every investigation names its supplier"

        with httpx.Client(base_url=url, timeout=10) as browser:
            page = browser.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf, page.text
            form = {
                "username": login[1],
                "password": login[2],
                "csrf_token": csrf[1],
                "next": "/investigations",
            }
            assert browser.post("/login", data=form).status_code == 303
            listing = browser.get("/investigations")
            assert listing.status_code == 200
            for service in EXPECTED_ERRORS:
                assert service in listing.text

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        output.wait_for(r"stopped 5 processes", 5)
        time.sleep(0.2)
        assert not [pid for pid in children if alive(pid)], "a process the demo started outlived it"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
