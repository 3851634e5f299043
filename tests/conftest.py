"""Shared personas and data helpers for the whole suite.

Personas: Alice (learner), Bob (another learner), Charlie (mentor of Keras), Dana (mentor of
another competency), Admin (admin role).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tracker.models import Competency, User
from tracker.roles import role_grant
from tracker.services import competency_import_files, mentor_assign

REPO = Path(settings.BASE_DIR)
FIXTURES = REPO / "tests" / "fixtures"
SEED_FILE = FIXTURES / "seeds" / "000_b28b1c18b26156cf.txt"
CASE_SCHEMA_FILE = FIXTURES / "schemas" / "case-v1p1-cfpackage-schema.json"
KERAS_FILE = REPO / "tracker" / "catalogue" / "keras.md"
PASSWORD = "correct-horse-battery-staple"


def make_user(username: str, *roles: str) -> User:
    user = User.objects.create_user(username=username, email=f"{username}@example.com", password=PASSWORD)
    for role in roles:
        role_grant(user=user, role=role)
    return user


def make_competency(title: str = "Widgets", claims: int = 3) -> Competency:
    from tracker.formats.base import ClaimData, FrameworkData, ResourceData
    from tracker.services import competency_import

    data = FrameworkData(
        title=title,
        category="Testing",
        description=f"About {title}.",
        claims=[ClaimData(text=f"{title} claim {n}") for n in range(1, claims + 1)],
        resources=[ResourceData(title=f"{title} docs", url="https://example.com/docs")],
    )
    return competency_import(frameworks=[data])[0]


# What a test needs follows from the fixtures it uses (directly or through other fixtures), so a new test is
# classified without anyone remembering a marker. `make test-fast` deselects these markers.
MARKERS_BY_FIXTURE = {
    "sandbox": "sandbox",  # the training sandbox and its TensorFlow runtime (tests/trainer/conftest.py)
    "browser": "browser",  # Chromium through Playwright (tests/web/conftest.py)
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in MARKERS_BY_FIXTURE.items():
            if fixture in used:
                item.add_marker(marker)


@pytest.fixture
def keras(db: None) -> Competency:
    return competency_import_files(paths=[KERAS_FILE])[0]


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice", "learner")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob", "learner")


@pytest.fixture
def charlie(keras: Competency) -> User:
    user = make_user("charlie")
    mentor_assign(mentor=user, competencies=[keras])
    return user


@pytest.fixture
def dana(db: None) -> User:
    user = make_user("dana")
    mentor_assign(mentor=user, competencies=[make_competency("Other")])
    return user


@pytest.fixture
def admin_user(db: None) -> User:
    return make_user("root", "admin")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # PBKDF2's deliberate slowness costs ~0.3 s per user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
