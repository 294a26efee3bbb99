"""Configuration: typed, env-overridable, and every error names the key to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_config

BASE = """
collector: {url: "http://c:8061", token_file: TOKEN}
state_dir: STATE
sources:
  - service: load_ftp
    paths: ["/var/log/load_ftp/*.log"]
    supplier_pattern: 'supplier=(?P<supplier>\\w+)'
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "token").write_text("s3cret\n")
    path = tmp_path / "agent.yaml"
    path.write_text(text.replace("TOKEN", str(tmp_path / "token")).replace("STATE", str(tmp_path / "st")))
    return path


def test_loads_with_defaults_and_token_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE), environ={})
    assert config.collector.token == "s3cret"
    assert config.sources[0].min_level == "WARNING"
    assert config.sources[0].paths == ("/var/log/load_ftp/*.log",)
    assert config.reading.chunk_bytes == 1 << 20
    assert "s3cret" not in repr(config)


def test_env_overrides(tmp_path: Path) -> None:
    env = {
        "PRICELENS_AGENT_COLLECTOR__URL": "https://other:1",
        "PRICELENS_AGENT_SHIPPING__BATCH_AGE": "0.5",
        "PRICELENS_AGENT_SOURCES__0__MIN_LEVEL": "ERROR",
        "PRICELENS_AGENT_TOKEN": "from-env",
    }
    config = load_config(write(tmp_path, BASE), environ=env)
    assert config.collector.url == "https://other:1"
    assert config.shipping.batch_age == 0.5
    assert config.sources[0].min_level == "ERROR"
    assert config.collector.token == "from-env"


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        (BASE.replace("http://c:8061", "c:8061"), "collector.url", "http"),
        (BASE.replace("service: load_ftp", "service: 'load ftp'"), "sources[0].service", "letters"),
        (BASE + "    min_level: LOUD\n", "sources[0].min_level", "unknown level"),
        (BASE + "    format: xml\n", "sources[0].format", "one of"),
        (BASE.replace("(?P<supplier>\\w+)", "(\\w+)"), "sources[0].supplier_pattern", "(?P<supplier>"),
        (
            BASE.replace("(?P<supplier>\\w+)", "(?P<supplier>[a-"),
            "sources[0].supplier_pattern",
            "invalid regular",
        ),
        (BASE + "reading: {quiet_time: soon}\n", "reading.quiet_time", "number"),
        (BASE + "reading: {quiet_tme: 1}\n", "reading.quiet_tme", "unknown key"),
        (BASE + "shipping: {batch_max_events: 5000}\n", "shipping.batch_max_events", "1000"),
        (BASE + "    format: regex\n", "sources[0].pattern", "required"),
        (BASE.replace('    paths: ["/var/log/load_ftp/*.log"]\n', ""), "sources[0]", "paths or error_dirs"),
        ("collector: [1, 2]\nsources: []\n", "collector", "mapping"),
        ("sources: [\n", "<root>", "YAML"),
        (
            BASE.replace("token_file: TOKEN", "token_file: /nonexistent/token"),
            "collector.token_file",
            "cannot read",
        ),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert str(info.value).startswith(f"{path}:")
    assert words in str(info.value)
