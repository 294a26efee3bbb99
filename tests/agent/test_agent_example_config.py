"""The shipped example configuration is valid and documents every option the agent knows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.config import (
    AgentConfig,
    CollectorConfig,
    ReadingConfig,
    ShippingConfig,
    SourceConfig,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "agent.example.yaml"


def test_example_config_loads(tmp_path: Path) -> None:
    config = load_config(EXAMPLE, environ={"PRICELENS_AGENT_TOKEN": "t"})
    assert [s.format for s in config.sources] == ["python", "json", "regex"]


def test_example_config_mentions_every_option() -> None:
    text = EXAMPLE.read_text()
    for cls in (AgentConfig, CollectorConfig, SourceConfig, ReadingConfig, ShippingConfig):
        for field in dataclasses.fields(cls):
            assert f"{field.name}:" in text, f"{cls.__name__}.{field.name} is not documented"
