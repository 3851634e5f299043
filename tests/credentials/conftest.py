"""Issuer keys in a private key file, and the site's public URL, for every credentials test that asks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from credentials.keys import IssuerKey, issuer_keys, keyfile_create
from tests.credentials.helpers import SITE
from tests.trainer.conftest import data_dir, tiny_task  # noqa: F401 (fixtures: the tiny task and its dataset)


@pytest.fixture
def key_file(settings: Any, tmp_path: Path) -> Path:
    settings.SITE_URL = SITE
    settings.CREDENTIALS_SIGNING_KEY = ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    keyfile_create(settings.CREDENTIALS_KEY_FILE)
    return Path(settings.CREDENTIALS_KEY_FILE)


@pytest.fixture
def issuer_key(key_file: Path) -> IssuerKey:
    return issuer_keys()[-1]


@pytest.fixture
def widgets(db: None) -> Any:
    from tests.conftest import make_competency

    return make_competency("Widgets", claims=2)


@pytest.fixture
def mentor(widgets: Any) -> Any:
    from tests.conftest import make_user
    from tracker.services import mentor_assign

    user = make_user("mona")
    mentor_assign(mentor=user, competencies=[widgets])
    return user


@pytest.fixture
def issued(issuer_key: IssuerKey, alice: Any, widgets: Any, mentor: Any) -> Any:
    """Alice's credential for Widgets, issued when her last claim was approved."""
    from credentials.models import IssuedCredential
    from tests.credentials.helpers import approve_every_claim

    approve_every_claim(alice, widgets, mentor)
    return IssuedCredential.objects.get(learner=alice, competency=widgets)
