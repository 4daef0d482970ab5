"""Submission rate limits: one token bucket per API token (pure; the clock is passed in).

A bucket holds at most `burst` submissions and refills at `rate_per_minute`. Per API process: N replicas behind
a load balancer allow up to N times the rate (documented in the README).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class TokenBuckets:
    rate_per_minute: float
    burst: int
    _levels: dict[str, tuple[float, float]] = field(default_factory=dict)  # key → (tokens, at)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str, now: float) -> float:
        """Spend one submission of `key`'s bucket: 0.0 when allowed, else the seconds until one is available."""
        per_second = self.rate_per_minute / 60.0
        with self._lock:
            tokens, at = self._levels.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - at) * per_second)
            if tokens >= 1.0:
                self._levels[key] = (tokens - 1.0, now)
                return 0.0
            self._levels[key] = (tokens, now)
            return (1.0 - tokens) / per_second
