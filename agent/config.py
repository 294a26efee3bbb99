"""The agent's typed configuration: YAML file, `PRICELENS_AGENT_*` overrides, token from file or env.

Every problem is reported as a `ConfigError` naming the key path (`sources[1].min_level`), so
`pricelens-agent check-config` can tell an operator exactly what to fix. The token is never part of a
repr or a message.

Overrides: `PRICELENS_AGENT_<SECTION>__<KEY>` (double underscore descends, list items by index), e.g.
`PRICELENS_AGENT_COLLECTOR__URL`, `PRICELENS_AGENT_SHIPPING__BATCH_AGE=0.5`,
`PRICELENS_AGENT_SOURCES__0__MIN_LEVEL=ERROR`; values are read as YAML scalars.
`PRICELENS_AGENT_TOKEN` supplies the token directly.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from agent.parsing import DEFAULT_LAYOUT, LEVELS, layout_regex

ENV_PREFIX = "PRICELENS_AGENT_"
_SERVICE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")


class ConfigError(ValueError):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or '<root>'}: {problem}")
        self.path = path


@dataclass(frozen=True)
class CollectorConfig:
    url: str
    token: str = field(default="", repr=False)
    token_file: str | None = None
    timeout: float = 30.0
    verify_tls: bool = True


@dataclass(frozen=True)
class SourceConfig:
    service: str
    paths: tuple[str, ...] = ()
    error_dirs: tuple[str, ...] = ()
    format: Literal["python", "json", "regex"] = "python"
    layout: str = DEFAULT_LAYOUT
    pattern: str | None = None
    min_level: str = "WARNING"
    start_at: Literal["beginning", "end"] = "beginning"
    supplier_pattern: str | None = None
    supplier_from_path: str | None = None
    file_pattern: str | None = None
    reason_suffixes: tuple[str, ...] = (".err", ".txt", ".log")
    send_existing: bool = True


@dataclass(frozen=True)
class ReadingConfig:
    chunk_bytes: int = 1 << 20
    max_record_bytes: int = 512 * 1024
    quiet_time: float = 0.5
    traceback_wait: float = 5.0
    rescan_interval: float = 10.0
    close_inactive: float = 300.0


@dataclass(frozen=True)
class SpoolConfig:
    max_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True)
class ShippingConfig:
    batch_max_events: int = 1000
    batch_max_bytes: int = 4 * 1024 * 1024
    batch_age: float = 0.2
    backoff_initial: float = 0.5
    backoff_max: float = 60.0
    auth_retry: float = 60.0
    shutdown_timeout: float = 5.0


@dataclass(frozen=True)
class AgentConfig:
    collector: CollectorConfig
    sources: tuple[SourceConfig, ...]
    state_dir: Path = Path("/var/lib/pricelens-agent")
    hostname: str = field(default_factory=socket.gethostname)
    reading: ReadingConfig = ReadingConfig()
    spool: SpoolConfig = SpoolConfig()
    shipping: ShippingConfig = ShippingConfig()
    heartbeat_interval: float = 60.0
    status_interval: float = 5.0
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> AgentConfig:
    env = os.environ if environ is None else environ
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("", f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError("", f"not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("", "the file must hold a mapping of settings")
    _apply_env(raw, env)
    config = _build(AgentConfig, raw, "")
    config = _with_token(config, env)
    validate(config)
    return config


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}TOKEN":
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        node: Any = raw
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            if isinstance(node, list):
                if not key.isdigit() or int(key) >= len(node):
                    raise ConfigError(name, f"no list item {key} to override")
                if last:
                    node[int(key)] = yaml.safe_load(value)
                else:
                    node = node[int(key)]
            elif isinstance(node, dict):
                if last:
                    node[key] = yaml.safe_load(value)
                else:
                    node = node.setdefault(key, {})
            else:
                raise ConfigError(name, "overrides a value that is not a section")


def _with_token(config: AgentConfig, env: Mapping[str, str]) -> AgentConfig:
    token = env.get(f"{ENV_PREFIX}TOKEN") or config.collector.token
    if not token and config.collector.token_file:
        try:
            token = Path(config.collector.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError("collector.token_file", f"cannot read the token: {exc.strerror}") from exc
    if not token:
        raise ConfigError("collector.token", "no token: set token_file, token or PRICELENS_AGENT_TOKEN")
    return dataclasses.replace(config, collector=dataclasses.replace(config.collector, token=token))


def _build(cls: type[Any], raw: Any, path: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(path, f"expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(_join(path, str(unknown[0])), f"unknown key (known: {', '.join(sorted(names))})")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = _join(path, f.name)
        if f.name in raw:
            kwargs[f.name] = _convert(hints[f.name], raw[f.name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(key, "required")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _convert(next(a for a in args if a is not type(None)), value, path)
    if origin is Literal:
        if value not in args:
            raise ConfigError(path, f"must be one of {', '.join(map(str, args))}, got {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(path, "expected a list")
        return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path)  # type: ignore[arg-type]
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(path, "expected a path")
        return Path(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {value!r}")
        return value
    if tp in (int, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (tp is int and value != int(value))
        ):
            raise ConfigError(path, f"expected a number, got {value!r}")
        if value < 0:
            raise ConfigError(path, "must not be negative")
        return tp(value)
    if tp is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(path, f"expected a string, got {value!r}")
        return str(value)
    raise ConfigError(path, f"unsupported setting type {tp!r}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(config: AgentConfig) -> None:
    """Checks that span fields: URLs, service names, regexes and their required groups."""
    if not re.match(r"https?://[^/\s]+", config.collector.url):
        raise ConfigError(
            "collector.url", f"must be an http:// or https:// URL, got {config.collector.url!r}"
        )
    if not config.sources:
        raise ConfigError("sources", "at least one source is needed")
    for i, src in enumerate(config.sources):
        at = f"sources[{i}]"
        if not _SERVICE.match(src.service):
            raise ConfigError(f"{at}.service", "must be 1..64 of letters, digits, '_', '.', '-'")
        if not src.paths and not src.error_dirs:
            raise ConfigError(at, "needs paths or error_dirs")
        if src.min_level.upper() not in LEVELS:
            raise ConfigError(f"{at}.min_level", f"unknown level {src.min_level!r}")
        if src.format == "regex" and not src.pattern:
            raise ConfigError(f"{at}.pattern", "required when format is regex")
        if src.format == "python":
            _regex(layout_regex(src.layout), f"{at}.layout", ())
        if src.pattern:
            _regex(src.pattern, f"{at}.pattern", ("message",))
        _regex(src.supplier_pattern, f"{at}.supplier_pattern", ("supplier",))
        _regex(src.supplier_from_path, f"{at}.supplier_from_path", ("supplier",))
        _regex(src.file_pattern, f"{at}.file_pattern", ("file",))
    if config.reading.chunk_bytes < 4096:
        raise ConfigError("reading.chunk_bytes", "must be at least 4096")
    if config.reading.max_record_bytes < 1024:
        raise ConfigError("reading.max_record_bytes", "must be at least 1024")
    if not 1 <= config.shipping.batch_max_events <= 1000:
        raise ConfigError("shipping.batch_max_events", "must be between 1 and 1000 (the contract's limit)")


def _regex(pattern: str | None, path: str, groups: tuple[str, ...]) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(path, f"invalid regular expression: {exc}") from exc
    missing = [g for g in groups if g not in compiled.groupindex]
    if missing:
        raise ConfigError(path, f"needs a named group (?P<{missing[0]}>...)")
    return compiled
