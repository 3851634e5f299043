"""Production settings: `check --deploy` is clean and secrets come only from the environment."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from credentials.multikey import secret_key_encode

REPO = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 64 + "-a-long-random-production-key-with-entropy-9f8e7d",
    "ALLOWED_HOSTS": "skillproof.example.com",
    "CREDENTIALS_SIGNING_KEY": secret_key_encode(Ed25519PrivateKey.generate()),
    "PATH": os.environ["PATH"],
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env={**env, "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_check_deploy_fails_without_a_credential_signing_key(tmp_path: Path) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CREDENTIALS_SIGNING_KEY"}
    result = manage("check", "--deploy", env={**env, "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "credentials.E001" in result.stderr and "No credential signing key" in result.stderr


@pytest.mark.skipif(not (shutil.which("docker-compose") or shutil.which("docker")), reason="no compose client")
def test_docker_compose_file_parses() -> None:
    compose = shutil.which("docker-compose")
    command = [compose, "config", "--quiet"] if compose else ["docker", "compose", "config", "--quiet"]
    # The variables compose requires, as an operator sets them (SECRET_KEY comes from tests/testenv.py).
    env = {**os.environ, "CREDENTIALS_SIGNING_KEY": PRODUCTION_ENV["CREDENTIALS_SIGNING_KEY"]}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_env_example_documents_every_variable() -> None:
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (REPO / ".env.example").read_text().splitlines()
        if "=" in line
    }
    source = "\n".join(p.read_text() for p in REPO.glob("*/settings.py"))
    import re

    used = set(re.findall(r'env(?:bool|int|list)?\(\s*"([A-Z_]+)"', source))
    used |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', source))
    assert used <= documented, f"undocumented: {sorted(used - documented)}"
