"""A cohort for load tests: thousands of learners, a year of evidence, reviews, runs and notifications.

    manage.py seed_load                      # 5,000 learners, 20 mentors, 100,000 evidence, 60,000 reviews, 30,000 runs
    manage.py seed_load --scale 0.1          # a tenth of everything (the tests' size)
    manage.py seed_load --reset              # delete the cohort first

Bulk inserts in batches; idempotent: a cohort already there (its learners exist) is left alone. The
distributions are a course's: most learners have a little evidence and a few attempts, a few have a lot
(a Pareto tail); most evidence is decided, some waits in the mentors' queue; runs mostly succeed. Every
persona logs in with the password given (--password, default "load-password") so that `bench/load` can
sign in as any of them. Users are named load-learner-N and load-mentor-N.
"""

from __future__ import annotations

import io
import random
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from evidence.models import Evidence, Kind, Notification, Review, Status
from tracker.models import Competency, User
from trainer.models import Filing, TaskSpec, TrainingRun

PREFIX = "load-"
FULL = {"learners": 5000, "mentors": 20, "evidence": 100_000, "reviews": 60_000, "runs": 30_000}
BATCH = 2000
# Of the decided evidence (one review each at least), what the review decided.
DECISIONS = [(Review.Decision.APPROVE, 0.7), (Review.Decision.REQUEST_CHANGES, 0.2), (Review.Decision.REJECT, 0.1)]
AFTER_REVIEW = {
    Review.Decision.APPROVE: Status.APPROVED,
    Review.Decision.REQUEST_CHANGES: Status.CHANGES_REQUESTED,
    Review.Decision.REJECT: Status.REJECTED,
}


class Command(BaseCommand):
    help = "Create a load-test cohort (learners, mentors, evidence, reviews, runs, notifications) with bulk inserts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Multiply every count (default 1: 5,000 learners)."
        )
        parser.add_argument("--password", default="load-password", help="The password of every persona.")
        parser.add_argument("--reset", action="store_true", help="Delete the cohort first.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (the same seed, the same cohort).")

    def handle(self, *args: Any, scale: float, password: str, reset: bool, seed: int, **options: Any) -> None:
        if not 0 < scale <= 10:
            raise CommandError("--scale must be above 0 and at most 10.")
        started = time.monotonic()
        if reset:
            self.stdout.write(f"Deleted the cohort: {cohort_delete()} users")
        if User.objects.filter(username__startswith=f"{PREFIX}learner-").exists():
            self.stdout.write("A load cohort is already there; --reset to make a new one.")
            return
        counts = {name: max(1, round(value * scale)) for name, value in FULL.items()}
        counts["reviews"] = min(counts["reviews"], counts["evidence"])
        made = cohort_create(counts, password=password, rng=random.Random(seed), log=self.stdout.write)
        if connection.vendor == "postgresql":  # fresh statistics, or the planner misjudges the new rows for a while
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        made_text = ", ".join(f"{value:,} {name}" for name, value in made.items())
        self.stdout.write(f"Created {made_text} in {time.monotonic() - started:.0f} s")


def cohort_delete() -> int:
    users = User.objects.filter(username__startswith=PREFIX)
    ids = list(users.values_list("pk", flat=True))
    with transaction.atomic():
        Filing.objects.filter(run__learner_id__in=ids).delete()
        # A resubmission protects the version it follows: unlink the chains, or the delete is refused.
        Evidence.objects.filter(learner_id__in=ids, previous__isnull=False).update(previous=None)
        Review.objects.filter(reviewer_id__in=ids).delete()
        count, _ = users.delete()
    return len(ids) if count else 0


def _tasks() -> list[TaskSpec]:
    """The tasks runs are made for: the catalogue's, building the tiny Fashion-MNIST one when none is there."""
    tasks = list(TaskSpec.objects.filter(is_active=True, is_tiny=False).select_related("dataset"))
    if not tasks:
        call_command("build_datasets", "fashion-mnist-tiny", verbosity=0, stdout=io.StringIO())
        TaskSpec.objects.filter(slug="fashion-mnist-tiny").update(is_tiny=False)
        tasks = list(TaskSpec.objects.filter(is_active=True, is_tiny=False).select_related("dataset"))
    return tasks


def _shares(total: int, people: int, rng: random.Random) -> list[int]:
    """`total` split over `people` with a Pareto tail: most get a little, a few get a lot; every count >= 0."""
    weights = [rng.paretovariate(1.3) for _ in range(people)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for index in rng.sample(range(people), k=min(people, total - sum(counts))):
        counts[index] += 1
    return counts


@transaction.atomic
def cohort_create(counts: dict[str, int], *, password: str, rng: random.Random, log: Any) -> dict[str, int]:
    keras = Competency.objects.filter(slug="keras").first()
    if keras is None:
        call_command("setup_demo", "--no-users", verbosity=0)
        keras = Competency.objects.get(slug="keras")
    claims = list(keras.claims.order_by("order"))
    tasks = _tasks()
    hashed = make_password(password)
    now = timezone.now()

    learners = User.objects.bulk_create(
        [
            User(
                username=f"{PREFIX}learner-{n}",
                email=f"{PREFIX}learner-{n}@example.com",
                password=hashed,
                on_leaderboards=n % 3 == 0,
            )
            for n in range(counts["learners"])
        ],
        batch_size=BATCH,
    )
    mentors = User.objects.bulk_create(
        [
            User(username=f"{PREFIX}mentor-{n}", email=f"{PREFIX}mentor-{n}@example.com", password=hashed)
            for n in range(counts["mentors"])
        ],
        batch_size=BATCH,
    )
    membership = User.groups.through
    groups = {name: Group.objects.get(name=name) for name in ("learner", "mentor")}
    membership.objects.bulk_create(
        [membership(user_id=u.pk, group_id=groups["learner"].pk) for u in learners]
        + [membership(user_id=u.pk, group_id=groups["mentor"].pk) for u in mentors],
        batch_size=BATCH,
    )
    keras.mentors.add(*mentors)
    log(f"{len(learners):,} learners and {len(mentors):,} mentors")

    # Evidence over a year, most of it decided; the newest pieces wait for review.
    evidence: list[Evidence] = []
    for learner, count in zip(learners, _shares(counts["evidence"], len(learners), rng), strict=True):
        for _ in range(count):
            claim = claims[rng.randrange(len(claims))]
            submitted = now - timedelta(days=rng.uniform(0, 365))
            kind = rng.choice([Kind.WRITTEN, Kind.WRITTEN, Kind.LINK, Kind.TRAINING])
            evidence.append(
                Evidence(
                    learner=learner,
                    claim=claim,
                    competency=keras,
                    kind=kind,
                    status=Status.SUBMITTED,
                    body="An answer written for the load test. " * rng.randint(1, 8),
                    url="https://example.com/notebook" if kind == Kind.LINK else "",
                    claim_text=claim.text,
                    claim_version=claim.version,
                    submitted_at=submitted,
                )
            )
    evidence.sort(key=lambda e: e.submitted_at or now)
    Evidence.objects.bulk_create(evidence, batch_size=BATCH)
    log(f"{len(evidence):,} evidence")

    # Reviews of the oldest evidence; one notification to the learner for each.
    reviewed = evidence[: counts["reviews"]]
    reviews, notifications = [], []
    for piece in reviewed:
        decision = rng.choices([d for d, _ in DECISIONS], weights=[w for _, w in DECISIONS])[0]
        piece.status = AFTER_REVIEW[decision]
        reviews.append(
            Review(
                evidence=piece,
                reviewer=mentors[rng.randrange(len(mentors))],
                decision=decision,
                comment="Reviewed in the load test.",
            )
        )
        notifications.append(
            Notification(
                recipient_id=piece.learner_id,
                evidence=piece,
                message=f"Your evidence was {piece.status}.",
                read_at=now if rng.random() < 0.8 else None,
            )
        )
    Evidence.objects.bulk_update(reviewed, ["status"], batch_size=BATCH)
    Review.objects.bulk_create(reviews, batch_size=BATCH)
    Notification.objects.bulk_create(notifications, batch_size=BATCH)
    log(f"{len(reviews):,} reviews and notifications")

    # Runs with per-epoch histories; training evidence cites one each (the learner's own, for a task of its claim).
    runs = []
    for learner, count in zip(learners, _shares(counts["runs"], len(learners), rng), strict=True):
        for _ in range(count):
            task = tasks[rng.randrange(len(tasks))]
            finished = now - timedelta(days=rng.uniform(0, 365))
            ok = rng.random() < 0.85
            value = round(rng.uniform(task.threshold - 0.3, task.threshold + 0.1), 4)
            epochs = max(1, min(task.max_epochs, 5))
            runs.append(
                TrainingRun(
                    learner=learner, task=task, dataset=task.dataset, claim_id=task.claim_id, source_kind="py",
                    code_sha256=f"{rng.getrandbits(256):064x}", file_name="submission.py", file_size=2048,
                    status=TrainingRun.State.SUCCEEDED if ok else TrainingRun.State.FAILED,
                    error_kind="" if ok else "learner_error",
                    error_message="" if ok else "Training raised ValueError: a load-test failure.",
                    metrics={task.metric: value} if ok else {}, passed=(value >= task.threshold) if ok else None,
                    history=[
                        {"epoch": e, "loss": round(2.0 / e, 4), "val_loss": round(2.2 / e, 4), "seconds": 3.0}
                        for e in range(1, epochs + 1)
                    ] if ok else [],
                    epochs=epochs, started_at=finished - timedelta(minutes=2), finished_at=finished,
                    stage=TrainingRun.Stage.DONE, param_count=100_000 if ok else None,
                )
            )  # fmt: skip
    TrainingRun.objects.bulk_create(runs, batch_size=BATCH)
    by_learner: dict[int, list[TrainingRun]] = {}
    for run in runs:
        if run.status == TrainingRun.State.SUCCEEDED:
            by_learner.setdefault(run.learner_id, []).append(run)
    filings = [
        Filing(run=rng.choice(by_learner[piece.learner_id]), evidence=piece)
        for piece in evidence
        if piece.kind == Kind.TRAINING and by_learner.get(piece.learner_id)
    ]
    Filing.objects.bulk_create(filings, batch_size=BATCH)
    log(f"{len(runs):,} runs, {len(filings):,} filed as evidence")
    return {
        "learners": len(learners), "mentors": len(mentors), "evidence": len(evidence), "reviews": len(reviews),
        "notifications": len(notifications), "runs": len(runs), "filings": len(filings),
    }  # fmt: skip
