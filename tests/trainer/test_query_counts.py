"""Every page and API list runs as many queries on a cohort ten times larger (`manage.py seed_load` at two
scales): learners', mentors' and anonymous pages, the run page and its polling fragment, the API lists.

Each size is a whole cohort (learners with a long tail of evidence, reviews, notifications and runs), plus what
the seed does not make: queued runs (their queue positions), a chain of resubmitted versions, and competencies
the heaviest learner holds credentials for. Everything grows ten times between the two sizes.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials.keys import keyfile_create
from credentials.models import IssuedCredential
from evidence.models import Evidence, Kind, Status
from evidence.services import EvidenceInput, evidence_create, review_record
from tests.conftest import make_competency
from tracker.models import Competency, User
from tracker.services import mentor_assign
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SMALL = 0.002  # 10 learners, 200 evidence, 120 reviews, 60 runs; then ten times that


def seed(scale: float, tiny_task: TaskSpec) -> dict[str, Any]:
    """A cohort at `scale` (replacing any earlier one) with its extras, ten per 0.02 of scale; returns the
    objects the pages are asked about."""
    Evidence.objects.update(previous=None)  # versions protect each other; the seed deletes the cohort whole
    call_command("seed_load", "--scale", str(scale), "--reset", stdout=io.StringIO())
    grow = round(scale / SMALL)
    heavy = User.objects.get(
        username=Counter(Evidence.objects.values_list("learner__username", flat=True)).most_common(1)[0][0]
    )
    mentor = User.objects.get(username="load-mentor-0")
    others = list(User.objects.filter(username__startswith="load-learner-").exclude(pk=heavy.pk)[:grow])
    _queue(tiny_task, [heavy, heavy, *others], per_learner=grow)
    chain = _versions(heavy, tiny_task.claim.competency, count=2 * grow)
    _credentials(heavy, mentor, count=grow)
    newest_run = TrainingRun.objects.filter(learner=heavy, status="queued").order_by("-pk").first()
    filed = TrainingRun.objects.filter(learner=heavy, filings__isnull=False).first()
    reviewed = Evidence.objects.filter(learner=heavy, reviews__isnull=False, status=Status.APPROVED).first()
    IssuedCredential.objects.filter(learner=heavy).update(public=True)  # its public page, for anyone
    credential = IssuedCredential.objects.filter(learner=heavy).first()
    assert newest_run and filed and reviewed and credential
    return {
        "heavy": heavy, "mentor": mentor, "task": tiny_task.slug, "queued": newest_run.pk, "filed": filed.pk,
        "chain": chain.pk, "reviewed": reviewed.pk, "credential": credential.pk, "claim": tiny_task.claim_id,
        "competency": tiny_task.claim.competency_id, "learner": heavy.username, "learner_id": heavy.pk,
    }  # fmt: skip


def _queue(task: TaskSpec, learners: list[User], per_learner: int) -> None:
    """Queued attempts (a few per learner; the same learner twice has twice as many)."""
    now = timezone.now()
    TrainingRun.objects.bulk_create(
        TrainingRun(
            learner=learner,
            task=task,
            dataset=task.dataset,
            claim_id=task.claim_id,
            source_kind="py",
            code_sha256="0" * 64,
            file_name="submission.py",
            file_size=10,
            epochs=1,
            created_at=now,
        )
        for learner in learners
        for _ in range(per_learner)
    )


def _versions(learner: User, competency: Competency, count: int) -> Evidence:
    """A piece of evidence resubmitted `count` times; returns the middle version (history both ways)."""
    claim = competency.claims.order_by("order").first()
    assert claim is not None
    previous = None
    chain = []
    for version in range(1, count + 1):
        previous = Evidence.objects.create(
            learner=learner, claim=claim, competency=competency, kind=Kind.WRITTEN, body="Another version.",
            status=Status.SUBMITTED, previous=previous, version=version,
        )  # fmt: skip
        chain.append(previous)
    return chain[count // 2]


def _credentials(learner: User, mentor: User, count: int) -> None:
    """`count` competencies (the cohort's mentor mentors them) that `learner` is credentialed in."""
    have = Competency.objects.filter(slug__startswith="widgets-").count()
    for n in range(have, count):
        make_competency(f"Widgets {n}", claims=1)
    widgets = list(Competency.objects.filter(slug__startswith="widgets-"))
    mentor_assign(mentor=mentor, competencies=widgets)
    for competency in widgets:
        for claim in competency.active_claims().filter(required=True):
            data = EvidenceInput(kind="written", body=f"My answer to {claim.text}, in enough words to count.")
            evidence = evidence_create(learner=learner, claim=claim, data=data, submit=True)
            review_record(evidence=evidence, reviewer=mentor, decision="approve")


# (persona, URL with {placeholders} from `seed`)
PAGES = [
    ("learner", "/dashboard/"), ("learner", "/competencies/"), ("learner", "/competencies/keras/"),
    ("learner", "/tasks/"), ("learner", "/tasks/{task}/"), ("learner", "/tasks/{task}/?a={filed}&b={queued}"),
    ("learner", "/tasks/{task}/leaderboard/"), ("learner", "/tasks/{task}/attempts/{learner_id}/"),
    ("learner", "/runs/{queued}/"), ("learner", "/runs/{queued}/status/"), ("learner", "/runs/{filed}/"),
    ("learner", "/runs/{filed}/status/"), ("learner", "/evidence/"), ("learner", "/evidence/{reviewed}/"),
    ("learner", "/evidence/{chain}/"), ("learner", "/notifications/"), ("learner", "/credentials/"),
    ("anonymous", "/credentials/{credential}/"), ("anonymous", "/competencies/"), ("anonymous", "/tasks/{task}/"),
    ("mentor", "/review/"), ("mentor", "/review/?competency={competency}"), ("mentor", "/review/?claim={claim}"),
    ("mentor", "/review/?kind=training"), ("mentor", "/review/?learner={learner}"),
    ("mentor", "/review/?min_age_days=30"), ("mentor", "/review/?page=2"), ("mentor", "/review/learners/"),
    ("mentor", "/review/learners/?q=learner"), ("mentor", "/evidence/{chain}/"), ("mentor", "/evidence/{reviewed}/"),
    ("mentor", "/runs/"), ("mentor", "/runs/{filed}/"), ("mentor", "/tasks/{task}/attempts/{learner_id}/"),
    ("learner", "/api/evidence/"), ("learner", "/api/evidence/?status=approved"),
    ("learner", "/api/evidence/{reviewed}/reviews/"), ("learner", "/api/runs/"), ("learner", "/api/runs/?task={task}"),
    ("learner", "/api/runs/{queued}/"), ("learner", "/api/tasks/"), ("learner", "/api/tasks/{task}/"),
    ("learner", "/api/competencies/"), ("learner", "/api/credentials/"), ("learner", "/api/me/standing/"),
    ("mentor", "/api/evidence/?scope=queue"), ("mentor", "/api/runs/?learner={learner_id}"),
    ("anonymous", "/api/competencies/"),
]  # fmt: skip


def count_pages(client: Client, objects: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for persona, template in PAGES:
        client.logout()
        if persona != "anonymous":
            client.force_login(objects["heavy" if persona == "learner" else "mentor"])
        url = template.format(**objects)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code in (200, 286), (persona, url, response.status_code)
        counts[f"{persona} {template}"] = len(queries)
    return counts


@pytest.fixture
def credentials_keys(settings: Any, tmp_path: Path) -> None:
    settings.CREDENTIALS_SIGNING_KEY = ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    keyfile_create(settings.CREDENTIALS_KEY_FILE)


def test_every_page_and_api_list_runs_as_many_queries_on_ten_times_the_rows(
    client: Client, tiny_task: TaskSpec, credentials_keys: None
) -> None:
    small = count_pages(client, seed(SMALL, tiny_task))
    queued = TrainingRun.objects.filter(status="queued").count()
    large_objects = seed(SMALL * 10, tiny_task)
    assert TrainingRun.objects.filter(status="queued").count() >= 10 * queued  # the queue grew too
    large = count_pages(client, large_objects)
    for page in small:
        print(f"{small[page]:4} {large[page]:4}  {page}")
    grew = {page: (small[page], large[page]) for page in small if large[page] > small[page]}
    assert not grew, f"queries (small cohort, ten times larger) grew on: {grew}"
