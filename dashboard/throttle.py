"""Login throttling: after a few wrong passwords for one user from one address, logins pause a while.

argon2 makes each guess slow; this caps how many guesses an address gets. Keyed by (user name, client
address) so an attacker elsewhere cannot lock a person out of their own account. In memory, per
process: a restart forgets, which is acceptable for a brake on guessing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60.0
MAX_KEYS = 10_000


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times = self._failures.get(key, deque())
        cutoff = self._clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until this user may try again from this address (0 when allowed now)."""
        with self._lock:
            times = self._recent((username.lower(), address))
            if len(times) < self.max_failures:
                return 0.0
            return max(0.0, times[0] + self.window - self._clock())

    def failed(self, username: str, address: str) -> None:
        key = (username.lower(), address)
        with self._lock:
            if len(self._failures) >= MAX_KEYS and key not in self._failures:
                self._failures.clear()  # bounded memory; the brake restarts rather than grows
            times = self._recent(key)
            times.append(self._clock())
            self._failures[key] = times

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), address), None)
