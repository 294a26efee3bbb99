"""Starting the demo's processes and, above all, stopping every one of them.

Children run in their own session, so a Ctrl-C in the terminal reaches only ``pricelens demo``, which
then stops them in a sensible order (services, then the agent so it can deliver what they wrote last,
then the server) instead of all dying at once. On Linux each child also asks the kernel for SIGTERM
when its parent dies, so not even a ``kill -9`` of the demo leaves orphans behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    output: Path
    _stream: IO[bytes]

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """The processes the demo started, in start order."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.children: list[Child] = []

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> Child:
        output = self.output_dir / f"{name}.out"
        stream = output.open("ab")
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent(),  # only prctl, before exec
        )
        child = Child(name, process, output, stream)
        self.children.append(child)
        return child

    def exited(self) -> list[Child]:
        return [c for c in self.children if not c.running]

    def stop(self, names: Sequence[str], timeout: float = 10.0) -> None:
        """SIGTERM the named children together, wait up to ``timeout``, then SIGKILL what is left."""
        group = [c for c in self.children if c.name in names]
        for child in group:
            if child.running:
                _signal(child, signal.SIGTERM)
        for child in group:
            try:
                child.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal(child, signal.SIGKILL)
                child.process.wait()
            child._stream.close()

    def stop_all(self, timeout: float = 10.0) -> None:
        for child in reversed(self.children):
            self.stop([child.name], timeout)


def _signal(child: Child, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.process.pid, sig)
