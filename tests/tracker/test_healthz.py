import os
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client: Client) -> None:
    response = client.get("/healthz")
    data = response.json()
    assert response.status_code == 200, data
    assert data["ok"] is True
    assert data["database"]["ok"] and data["broker"]["ok"]
    expected_vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert data["database"]["vendor"] == expected_vendor


def test_healthz_reports_an_unreachable_broker(client: Client, settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    settings.CELERY_BROKER_TRANSPORT = None  # as settings.py derives it for a redis:// URL
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == {"ok": False, "transport": "redis", "error": "OperationalError"}
