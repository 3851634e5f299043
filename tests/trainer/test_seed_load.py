"""`manage.py seed_load`: the load-test cohort is created in bulk with a course's distributions, once, and its
personas can sign in and use the pages a load test drives."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import Client

from evidence.models import Evidence, Notification, Review, Status
from evidence.services import EvidenceInput, evidence_resubmit, review_record
from tracker.models import User
from tracker.services import mentor_assign
from trainer.models import Filing, TrainingRun

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_load", "--scale", "0.02", *args, stdout=out)
    return out.getvalue()


def test_the_cohort_is_made_once_with_a_long_tail(keras: object) -> None:
    output = seed()
    assert "Created 100 learners" in output
    learners = User.objects.filter(username__startswith="load-learner-")
    assert learners.count() == 100 and User.objects.filter(username__startswith="load-mentor-").count() == 1
    assert Evidence.objects.count() == 2000 and Review.objects.count() == 1200
    assert Notification.objects.count() == 1200 and TrainingRun.objects.count() == 600
    # Most learners have a little, a few have a lot.
    per_learner = sorted(Counter(Evidence.objects.values_list("learner_id", flat=True)).values())
    assert per_learner[-1] > 5 * per_learner[len(per_learner) // 2]
    # Decided evidence carries its review's decision; the rest waits in the queue.
    assert Evidence.objects.filter(status=Status.SUBMITTED).count() == 800
    assert Evidence.objects.filter(status=Status.APPROVED).count() > 600
    # Training evidence cites a successful run of the same learner.
    for filing in Filing.objects.select_related("run", "evidence")[:50]:
        assert filing.run.learner_id == filing.evidence.learner_id and filing.run.status == "succeeded"
    assert "already there" in seed()
    assert Evidence.objects.count() == 2000
    # A persona used during a load test resubmits after "changes requested": the new version protects the old.
    open_per_claim = Counter(Evidence.objects.filter(status=Status.SUBMITTED).values_list("learner_id", "claim_id"))
    asked = next(
        e for e in Evidence.objects.filter(status=Status.SUBMITTED, kind="written").select_related("learner", "claim")
        if open_per_claim[(e.learner_id, e.claim_id)] == 1
    )  # fmt: skip
    mentor = User.objects.get(username="load-mentor-0")
    mentor_assign(mentor=mentor, competencies=[asked.competency])
    review_record(evidence=asked, reviewer=mentor, decision="request_changes", comment="Say why.")
    data = EvidenceInput(kind="written", body="My answer again, with the reasons, in enough words to count.")
    evidence_resubmit(evidence=asked, learner=asked.learner, data=data)
    assert Evidence.objects.count() == 2001
    assert "Created 100 learners" in seed("--reset") and Evidence.objects.count() == 2000


def test_personas_sign_in_and_use_their_pages(keras: object, client: Client) -> None:
    seed("--password", "pw-for-load")
    heavy = Counter(Evidence.objects.values_list("learner__username", flat=True)).most_common(1)[0][0]
    login = client.post("/accounts/login/", {"username": heavy, "password": "pw-for-load"})
    assert login.status_code == 302
    for url in ("/dashboard/", "/evidence/", "/competencies/keras/", "/notifications/"):
        assert client.get(url).status_code == 200, url
    client.logout()
    login = client.post("/accounts/login/", {"username": "load-mentor-0", "password": "pw-for-load"})
    assert login.status_code == 302
    for url in ("/review/", "/review/learners/"):
        assert client.get(url).status_code == 200, url
