"""Wake the agent when something happens in a watched directory; nothing polls.

watchdog (inotify on Linux) watches the directories of the log globs and the error directories. A
directory that does not exist yet is covered by watching its nearest existing ancestor, so its
creation wakes the agent, which then watches it too (`refresh`). The runner's slow periodic rescan is
the backstop for missed events and for network file systems that send none.
"""

from __future__ import annotations

import logging
import os
import threading

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger("pricelens_agent.sources")


class Watcher(FileSystemEventHandler):
    def __init__(self, wake: threading.Event) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._structural = False
        self._observer = Observer()
        self._watches: dict[str, object] = {}

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed", "closed_no_write"):
            return
        if event.event_type != "modified" or event.is_directory:
            with self._lock:
                self._structural = True
        self._wake.set()

    def take_structural(self) -> bool:
        """Whether files may have appeared, moved or vanished since the last call."""
        with self._lock:
            structural, self._structural = self._structural, False
        return structural

    def start(self) -> None:
        self._observer.daemon = True
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    def refresh(self, directories: set[str]) -> None:
        """Watch each directory, or its nearest existing ancestor while it is missing."""
        wanted = {_watchable(d) for d in directories}
        for path in sorted(wanted - set(self._watches)):
            try:
                self._watches[path] = self._observer.schedule(self, path, recursive=False)
            except OSError as exc:
                log.warning("cannot watch %s (%s); relying on the periodic rescan", path, exc)
        for path in sorted(set(self._watches) - wanted):
            watch = self._watches.pop(path)
            try:
                self._observer.unschedule(watch)  # type: ignore[arg-type]
            except (KeyError, OSError):
                log.debug("watch on %s already gone", path)


def _watchable(directory: str) -> str:
    path = os.path.abspath(directory)
    while any(c in path for c in "*?[") or not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path
