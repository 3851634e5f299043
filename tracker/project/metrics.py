"""Prometheus metrics at /metrics (prometheus_client).

- Request latency by view (`skillproof_request_seconds`, labelled by URL name, method and status class), from
  a middleware. Under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR (an empty folder per start;
  `make run` and the compose file do): every worker process writes its samples there and a scrape of any one
  of them adds them up (prometheus_client's multiprocess mode; tracker/project/gunicorn.py marks dead
  workers).
- Counters the code increments where things happen (attempts refused by quota: trainer.metrics).
- State read from the database at scrape time, so it is right whichever process or machine did the work:
  runs by status and error kind, queue depth and the oldest queued run's wait per queue, workers seen,
  sandbox start (the wait for a warm sandbox) over the last hour, credentials issued.

Protected: with METRICS_TOKEN set, a scrape must send `Authorization: Bearer <token>`; without it, only
addresses in METRICS_ALLOWED_NETWORKS (loopback by default) may scrape. Anyone else gets a 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUEST_SECONDS = Histogram(
    "skillproof_request_seconds",
    "Time to answer a request, by view (URL name), method and status class.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestMetricsMiddleware:
    """Times every request; the label is the URL's name (a bounded set), never the raw path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        REQUEST_SECONDS.labels(
            view=view[:80], method=request.method or "", status=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


class DatabaseCollector(Collector):
    """What the database knows, read at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from trainer.models import TrainingRun
        from trainer.workers import queue_report

        runs = GaugeMetricFamily(
            "skillproof_runs", "Training runs by status and error kind.", labels=["status", "error_kind"]
        )
        rows = TrainingRun.objects.values("status", "error_kind").annotate(n=Count("pk")).order_by()
        for row in rows:
            runs.add_metric([row["status"], row["error_kind"] or ""], row["n"])
        yield runs

        report = queue_report()
        depth = GaugeMetricFamily("skillproof_queue_depth", "Runs waiting, per Celery queue.", labels=["queue"])
        wait = GaugeMetricFamily(
            "skillproof_queue_oldest_wait_seconds", "How long the oldest waiting run has waited.", labels=["queue"]
        )
        for name in sorted({settings.TRAINER_CPU_QUEUE, settings.TRAINER_GPU_QUEUE} | set(report["queues"])):
            queue = report["queues"].get(name, {"depth": 0, "oldest_age_seconds": 0})
            depth.add_metric([name], queue["depth"])
            wait.add_metric([name], queue["oldest_age_seconds"])
        yield depth
        yield wait
        yield GaugeMetricFamily(
            "skillproof_workers_seen", "Workers seen in the last minute.", value=len(report["workers"])
        )

        recent = TrainingRun.objects.filter(started_at__gte=timezone.now() - timedelta(hours=1)).values_list(
            "timings", flat=True
        )
        waits = [float(t["sandbox_wait"]) for t in recent if isinstance(t, dict) and "sandbox_wait" in t]
        start = GaugeMetricFamily(
            "skillproof_sandbox_start_seconds",
            "Wait for a warm sandbox at the start of training, over the runs started in the last hour.",
            labels=["quantile"],
        )
        if waits:
            start.add_metric(["0.5"], statistics.median(waits))
            start.add_metric(["1"], max(waits))
        yield start

        from credentials.models import IssuedCredential

        yield GaugeMetricFamily(
            "skillproof_credentials_issued", "Credentials issued (revoked ones included).",
            value=IssuedCredential.objects.count(),
        )  # fmt: skip


def exposition() -> bytes:
    """The text a scrape gets: the processes' own metrics, then what the database says."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # every worker process's samples, added up
    else:
        processes = REGISTRY
    database = CollectorRegistry()  # not auto-described: registering runs no query
    database.register(DatabaseCollector())
    return generate_latest(processes) + generate_latest(database)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    from tracker.throttling import client_address

    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


def metrics_view(request: HttpRequest, *args: Any) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("Metrics are for the monitoring system.\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
