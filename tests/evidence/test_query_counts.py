"""The review queue, the dashboard and the mentor's learner view run a constant number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evidence.models import Evidence, Status
from tests.conftest import make_user
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


def fill(keras: Competency, learner_count: int, per_learner: int) -> None:
    """Bulk rows: `learner_count` new learners with `per_learner` evidence each (mixed states)."""
    claims = list(keras.claims.order_by("order"))
    start = User.objects.count()
    learners = User.objects.bulk_create(
        User(username=f"l{n}", email=f"l{n}@example.com") for n in range(start, start + learner_count)
    )
    Evidence.objects.bulk_create(
        Evidence(
            learner=learner,
            claim=claims[i % len(claims)],
            competency=keras,
            kind="written",
            body="An answer of enough length.",
            status=[Status.SUBMITTED, Status.APPROVED, Status.DRAFT][i % 3],
        )
        for learner in learners
        for i in range(per_learner)
    )


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url,persona", [("/review/", "mentor"), ("/review/learners/", "mentor"), ("/dashboard/", "learner")]
)
def test_page_queries_do_not_grow_with_rows(
    client: Client, keras: Competency, charlie: User, url: str, persona: str, django_assert_max_num_queries: Any
) -> None:
    viewer = charlie if persona == "mentor" else make_user("viewer", "learner")
    client.force_login(viewer)
    fill(keras, learner_count=1, per_learner=3)
    if persona == "learner":
        Evidence.objects.update(learner=viewer)
    small = count_queries(client, url)
    fill(keras, learner_count=30, per_learner=10)  # 300 more rows
    if persona == "learner":
        Evidence.objects.update(learner=viewer)
    with django_assert_max_num_queries(small):
        client.get(url)
    print(f"{url}: {small} queries with 3 rows and with 303 rows")


def test_api_queue_queries_do_not_grow(
    client: Client, keras: Competency, charlie: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(charlie)
    fill(keras, learner_count=1, per_learner=3)
    small = count_queries(client, "/api/evidence/?scope=queue")
    fill(keras, learner_count=30, per_learner=10)
    with django_assert_max_num_queries(small):
        client.get("/api/evidence/?scope=queue")
