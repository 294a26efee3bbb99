"""Rejecting a price list the way the real loaders do: into the error directory, with a reason beside it.

The reason file (``<name>.err``) is renamed into place *before* the rejected file, and both arrive by
``os.replace`` from a staging directory on the same file system: a watcher of the error directory never
sees a half-written file, and when the price list appears its reason is already there.
"""

from __future__ import annotations

import os
from pathlib import Path

REASON_SUFFIX = ".err"


def reject(path: Path, error_dir: Path, reason: str) -> Path:
    """Move ``path`` into ``error_dir`` with ``<name>.err`` holding ``reason``; returns the new path."""
    error_dir.mkdir(parents=True, exist_ok=True)
    target = error_dir / path.name
    staged_reason = path.with_name(path.name + REASON_SUFFIX)
    staged_reason.write_text(reason.rstrip("\n") + "\n", encoding="utf-8")
    os.replace(staged_reason, error_dir / staged_reason.name)
    os.replace(path, target)
    return target
