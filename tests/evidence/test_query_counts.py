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
    "url,persona",
    [
        ("/review/", "mentor"), ("/review/learners/", "mentor"), ("/review/learners/?q=learner", "mentor"),
        ("/dashboard/", "learner"), ("/evidence/", "learner"), ("/notifications/", "learner"),
    ],
)  # fmt: skip
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


def test_pages_of_a_cohort_stay_a_page_long(client: Client, keras: Competency, charlie: User) -> None:
    """A cohort's lists are paged (50 rows), and the queue's learner filter is a username, not every learner."""
    fill(keras, learner_count=60, per_learner=2)
    client.force_login(charlie)
    learners = client.get("/review/learners/").content.decode()
    assert "Page 1 of 2 (60 learners)" in learners
    queue = client.get("/review/").content.decode()
    assert queue.count("<option") < 40  # competencies, claims and kinds only
    some = Evidence.objects.filter(status="submitted").select_related("learner").first()
    assert some is not None
    filtered = client.get(f"/review/?learner={some.learner.username}")
    assert filtered.status_code == 200 and all(e.learner_id == some.learner_id for e in filtered.context["queue"])
    unknown = client.get("/review/?learner=nobody-at-all").content.decode()
    assert "No learner by that username" in unknown
    by_id = client.get(f"/review/?learner={some.learner_id}")  # links from older pages carried the id
    assert all(e.learner_id == some.learner_id for e in by_id.context["queue"])
    learner = some.learner
    client.force_login(learner)
    Evidence.objects.update(learner=learner)
    mine = client.get("/evidence/").content.decode()
    assert "Page 1 of 3 (120 pieces of evidence)" in mine
