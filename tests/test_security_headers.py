"""Content-Security-Policy on every page, Swagger UI served from the app, and the compose defaults deploy-clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.test import Client

from credentials.multikey import secret_key_encode
from tracker.models import Competency

REPO = Path(settings.BASE_DIR)
PAGES = ["/", "/competencies/", "/competencies/keras/", "/tasks/", "/accounts/login/", "/admin/login/", "/api/docs/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_strict_content_security_policy(client: Client, keras: Competency, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["script-src"] == "'self'"
    # Swagger UI injects <style> elements: only its page allows inline styles (never scripts).
    assert policy["style-src"] == ("'self' 'unsafe-inline'" if path == "/api/docs/" else "'self'")
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    body = response.content.decode()
    inline = [
        tag for tag in re.findall(r"<script\b[^>]*>", body) if "src=" not in tag and "application/json" not in tag
    ]
    assert inline == [], inline  # a script without src would be refused by the policy


@pytest.mark.django_db
def test_swagger_ui_is_served_from_the_app_not_a_cdn(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(not src.startswith(("http:", "https:", "//")) for src in sources), sources
    assert any("swagger-ui-dist" in src for src in sources)
    for src in sources:
        assert client.get(src).status_code == 200, src


def _compose_environment() -> dict[str, str]:
    """The web service's environment as `docker compose` would give it with nothing set but what it requires."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    # A required variable gets a made-up value; the signing key must be a real key to pass the check.
    required = {"CREDENTIALS_SIGNING_KEY": secret_key_encode(Ed25519PrivateKey.generate())}
    env = {}
    for name, value in compose["x-app"]["environment"].items():
        text = str(value)
        text = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), text)
        text = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: required.get(m.group(1), "compose-" + "k" * 60), text)
        env[name] = text
    return env


def test_the_compose_defaults_pass_check_deploy(tmp_path: Path) -> None:
    env = _compose_environment() | {"PATH": os.environ["PATH"], "VAR_DIR": str(tmp_path), "MEDIA_ROOT": str(tmp_path)}
    assert env["SECURE_SSL_REDIRECT"] == "1" and env["SECURE_COOKIES"] == "1"  # behind the TLS proxy
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_health_check_answers_over_plain_http_when_https_is_enforced(client: Client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/competencies/").status_code == 301
    assert client.get("/healthz").status_code in (200, 503)  # answered, not redirected
