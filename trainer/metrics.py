"""Counters the trainer increments where things happen (exported at /metrics, see tracker/project/metrics.py)."""

from __future__ import annotations

from prometheus_client import Counter

ATTEMPTS_REFUSED = Counter("skillproof_attempts_refused", "Attempts refused by a quota, by which limit.", ["limit"])
