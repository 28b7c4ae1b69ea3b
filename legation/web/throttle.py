"""Failed logins slow down: per user name and client address, in this process's memory.

After ``FREE`` failures within ``WINDOW`` the pair is locked out, for ``BASE`` seconds doubled at
every further failure (at most ``LONGEST``). A success clears the pair. Memory only: a restart
forgets (enough against guessing through the form; several processes each count on their own).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

FREE = 5
WINDOW = 3600.0
BASE = 30.0
LONGEST = 3600.0
MAX_KEYS = 100_000  # a flood of made-up names cannot grow this without bound


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, username: str, client: str) -> float:
        """Seconds until the pair may try again (0: now)."""
        with self._lock:
            times = self._recent((username, client))
            if len(times) < FREE:
                return 0.0
            lock = min(LONGEST, BASE * 2.0 ** (len(times) - FREE))
            return max(0.0, times[-1] + lock - self._clock())

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._forget_old()
            key = (username, client)
            self._recent(key).append(self._clock())

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop((username, client), None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        cutoff = self._clock() - WINDOW
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def _forget_old(self) -> None:
        cutoff = self._clock() - WINDOW
        for key in [k for k, v in self._failures.items() if not v or v[-1] < cutoff]:
            del self._failures[key]
