"""The snippets in docs/reporting.md, run verbatim against a live collector."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import LiveCollector

pytestmark = pytest.mark.postgres
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "reporting.md"


def snippets(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_guide_has_the_three_snippets() -> None:
    assert len(snippets("bash")) == 1 and len(snippets("python")) == 2


def test_snippets_run_verbatim(collector: LiveCollector, tmp_path: Path) -> None:
    env = {**os.environ, "PRICELENS_URL": collector.url, "PRICELENS_TOKEN": collector.ingest_token}
    (bash,) = snippets("bash")
    subprocess.run(["bash", "-euo", "pipefail", "-c", bash], env=env, check=True, timeout=30)
    for i, code in enumerate(snippets("python")):
        script = tmp_path / f"snippet{i}.py"
        script.write_text(code)
        subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=60)

    events = {e["service"] + ":" + (e["error_type"] or ""): e for e in collector.events()}
    assert set(events) == {"load_ftp:ftplib.error_perm", "load_mail:zipfile.BadZipFile"}
    assert len(collector.events()) == 3  # curl and requests both report the ftp error
    mail = events["load_mail:zipfile.BadZipFile"]
    assert mail["event_id"] == "load_mail-msg-4711-part-2"
    assert "Traceback (most recent call last)" in mail["traceback"]
    assert mail["supplier"] == "GLOBEX"
    # The curl report has no traceback, the requests one has: by the contract they group apart.
    titles = [i["title"] for i in collector.investigations()]
    assert len(titles) == 3
    assert sorted(set(titles)) == [
        "ftplib.error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory",
        "zipfile.BadZipFile: File is not a zip file",
    ]
