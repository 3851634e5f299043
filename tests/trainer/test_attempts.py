"""Attempts without a worker: quotas, filing, who sees what, tiny tasks, the fair queue order, hints."""

from __future__ import annotations

import math
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from evidence.models import Evidence, Status
from tests.conftest import make_user
from tests.trainer.conftest import REFERENCE, submit
from tracker.models import User
from trainer import services
from trainer.filings import run_file
from trainer.hints import learning_stalled
from trainer.models import ErrorKind, QuotaOverride, TaskSpec, TrainingRun
from trainer.queue import fair_order, queue_positions
from trainer.quotas import QuotaExceeded, quota_for
from trainer.services import attempts_prune

pytestmark = pytest.mark.django_db


def finish(run: TrainingRun, *, accuracy: float | None = 0.8, **fields: Any) -> TrainingRun:
    """Mark a queued attempt as the worker would have left it (the worker tests run the real thing)."""
    values: dict[str, Any] = {"status": "succeeded", "started_at": timezone.now(), "finished_at": timezone.now()}
    if accuracy is not None:
        values |= {"metrics": {"accuracy": accuracy}, "passed": accuracy >= run.task.threshold}
    TrainingRun.objects.filter(pk=run.pk).update(**(values | fields))
    run.refresh_from_db()
    return run


def api_for(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def post_attempt(api: APIClient, task: TaskSpec, **data: Any) -> Any:
    upload = SimpleUploadedFile("model.py", REFERENCE)
    return api.post(f"/api/tasks/{task.slug}/runs/", {"file": upload, **data}, format="multipart")


# --- submitting, within the quota ------------------------------------------------------------------


def test_an_attempt_is_queued_with_its_position_and_never_reaches_the_mentor(
    alice: User, charlie: User, tiny_task: TaskSpec
) -> None:
    response = post_attempt(api_for(alice), tiny_task)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["queue_position"] == 1 and body["learner"] == "alice"
    assert body["evidence"] == [] and body["file_if_passes"] is False
    finish(TrainingRun.objects.get(pk=body["id"]))
    queue = api_for(charlie).get("/api/evidence/?scope=queue").json()["results"]
    assert queue == [] and not Evidence.objects.exists()


def test_a_third_attempt_while_two_are_active_is_refused_with_retry_after(alice: User, tiny_task: TaskSpec) -> None:
    api = api_for(alice)
    first, second = (post_attempt(api, tiny_task).json() for _ in range(2))
    response = post_attempt(api, tiny_task)
    assert response.status_code == 429
    assert "2 attempts queued or running (at most 2 at once)" in response.json()["detail"]
    assert int(response["Retry-After"]) >= 1
    assert TrainingRun.objects.count() == 2
    finish(TrainingRun.objects.get(pk=first["id"]))
    assert post_attempt(api, tiny_task).status_code == 201
    assert TrainingRun.objects.filter(pk=second["id"], status="queued").exists()


def test_the_attempt_after_the_daily_limit_gets_429_until_midnight(
    alice: User, tiny_task: TaskSpec, settings: Any
) -> None:
    settings.TRAINER_ATTEMPTS_PER_DAY = 3
    api = api_for(alice)
    for _ in range(3):
        finish(TrainingRun.objects.get(pk=post_attempt(api, tiny_task).json()["id"]))
    response = post_attempt(api, tiny_task)
    assert response.status_code == 429
    detail = response.json()["detail"]
    assert "all 3 attempts at this task today" in detail and "More at 00:00 UTC" in detail
    midnight = quota_for(alice, tiny_task).resets_at
    expected = math.ceil((midnight - timezone.now()).total_seconds())
    assert abs(int(response["Retry-After"]) - expected) <= 5
    quota = api.get(f"/api/tasks/{tiny_task.slug}/").json()["quota"]
    assert quota["remaining_today"] == 0 and quota["per_day"] == 3 and quota["resets_at"]


def test_the_task_api_shows_the_callers_quota(alice: User, tiny_task: TaskSpec) -> None:
    api = api_for(alice)
    post_attempt(api, tiny_task)
    quota = api.get(f"/api/tasks/{tiny_task.slug}/").json()["quota"]
    assert quota == quota | {"remaining_today": 19, "per_day": 20, "max_active": 2, "active": 1}
    assert APIClient().get(f"/api/tasks/{tiny_task.slug}/").json()["quota"] is None


def test_failures_count_but_platform_faults_and_cancels_before_the_start_are_refunded(
    alice: User, tiny_task: TaskSpec
) -> None:
    learner_error = finish(submit(alice, tiny_task, REFERENCE), accuracy=None, status="failed", error_kind="nan_loss")
    platform = finish(
        submit(alice, tiny_task, REFERENCE), accuracy=None, status="failed", error_kind=ErrorKind.WORKER_LOST
    )
    cancelled = submit(alice, tiny_task, REFERENCE)
    TrainingRun.objects.filter(pk=cancelled.pk).update(status="cancelled")
    assert learner_error.counts_for_quota and not platform.counts_for_quota
    assert quota_for(alice, tiny_task).used_today == 1


def test_task_and_learner_limits_override_the_site_default(
    alice: User, bob: User, charlie: User, tiny_task: TaskSpec
) -> None:
    TaskSpec.objects.filter(pk=tiny_task.pk).update(attempts_per_day=5, max_active=1)
    tiny_task.refresh_from_db()
    assert (quota_for(alice, tiny_task).per_day, quota_for(alice, tiny_task).max_active) == (5, 1)
    QuotaOverride.objects.create(learner=alice, task=None, max_active=4, granted_by=charlie)
    QuotaOverride.objects.create(learner=alice, task=tiny_task, attempts_per_day=50)
    quota = quota_for(alice, tiny_task)
    assert (quota.per_day, quota.max_active) == (50, 4)
    assert (quota_for(bob, tiny_task).per_day, quota_for(bob, tiny_task).max_active) == (5, 1)


def test_the_storage_cap_refuses_new_attempts_with_a_clear_message(
    alice: User, tiny_task: TaskSpec, settings: Any
) -> None:
    settings.TRAINER_STORAGE_MB = 1
    finish(submit(alice, tiny_task, REFERENCE), artifact_bytes=2 * 1024 * 1024)
    with pytest.raises(QuotaExceeded) as refused:
        submit(alice, tiny_task, REFERENCE)
    assert refused.value.status == 429 and "of your 1 MB" in refused.value.message


@pytest.mark.django_db(transaction=True)
def test_two_parallel_submissions_for_the_last_slot_create_exactly_one_run(
    alice: User, tiny_task: TaskSpec, settings: Any
) -> None:
    settings.TRAINER_ATTEMPTS_PER_DAY = 1
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            submit(alice, tiny_task, REFERENCE)
            outcomes.append("created")
        except QuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["created", "refused"]
    assert TrainingRun.objects.filter(learner=alice).count() == 1


def test_a_bad_file_is_refused_and_counts_for_nothing(alice: User, tiny_task: TaskSpec) -> None:
    api = api_for(alice)
    response = api.post(
        f"/api/tasks/{tiny_task.slug}/runs/",
        {"file": SimpleUploadedFile("notes.txt", b"hello")},
        format="multipart",
    )
    assert response.status_code == 400 and "Submit .py, .ipynb" in response.json()["detail"]
    assert api.post(f"/api/tasks/{tiny_task.slug}/runs/", {}, format="multipart").status_code == 400
    assert quota_for(alice, tiny_task).used_today == 0 and not TrainingRun.objects.exists()


# --- the attempts list ------------------------------------------------------------------------------


def test_the_runs_api_lists_only_the_callers_attempts(
    alice: User, bob: User, charlie: User, tiny_task: TaskSpec
) -> None:
    mine = submit(alice, tiny_task, REFERENCE)
    theirs = submit(bob, tiny_task, REFERENCE)
    rows = api_for(alice).get(f"/api/runs/?task={tiny_task.slug}").json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert api_for(alice).get(f"/api/runs/{theirs.pk}/").status_code == 404
    # The mentor of the task's competency sees a learner's path on request.
    rows = api_for(charlie).get(f"/api/runs/?learner={bob.pk}").json()["results"]
    assert [row["id"] for row in rows] == [theirs.pk]
    assert api_for(bob).get(f"/api/runs/?learner={alice.pk}").json()["results"] == []


def test_the_task_page_lists_attempts_newest_first_with_the_best_and_the_quota(
    client: Client, alice: User, tiny_task: TaskSpec
) -> None:
    low = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.41)
    high = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.77)
    failed = finish(submit(alice, tiny_task, b"x = ("), accuracy=None, status="failed", error_kind="syntax_error")
    client.force_login(alice)
    page = client.get(tiny_task.get_absolute_url()).content.decode()
    rows = page[page.index('id="attempts"') :]
    assert rows.index(f"#{failed.pk}") < rows.index(f"#{high.pk}") < rows.index(f"#{low.pk}")
    assert "0.7700" in rows and "Syntax error" in rows and high.code_sha256[:10] in rows
    assert f"attempt #{high.pk}</a>, accuracy 0.7700 (passed)" in page
    assert "<strong>17</strong> of 20 attempts left today" in page
    compared = client.get(tiny_task.get_absolute_url(), {"a": low.pk, "b": high.pk}).content.decode()
    assert 'id="compare-curves"' not in compared  # these two have no curves to draw
    TrainingRun.objects.filter(pk__in=[low.pk, high.pk]).update(history=[{"epoch": 1, "loss": 1.0}])
    compared = client.get(tiny_task.get_absolute_url(), {"a": low.pk, "b": high.pk}).content.decode()
    assert 'id="compare-curves"' in compared and f'"label": "#{high.pk}"' in compared


# --- filing -----------------------------------------------------------------------------------------


def test_filing_puts_exactly_that_attempt_in_the_queue_with_its_metrics(
    alice: User, charlie: User, tiny_task: TaskSpec
) -> None:
    finish(submit(alice, tiny_task, REFERENCE), accuracy=0.55)
    best = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.81)
    response = api_for(alice).post(
        "/api/evidence/", {"kind": "training", "claim": tiny_task.claim_id, "run": best.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["run"] == best.pk and body["status"] == "submitted" and body["file_sha256"] == best.code_sha256
    queue = api_for(charlie).get("/api/evidence/?scope=queue").json()["results"]
    assert [row["id"] for row in queue] == [body["id"]]
    assert api_for(charlie).get(f"/api/runs/{best.pk}/").json()["metrics"] == {"accuracy": 0.81}
    # One open evidence per claim: a second filing waits for the review, attempts do not.
    again = api_for(alice).post(
        "/api/evidence/", {"kind": "training", "claim": tiny_task.claim_id, "run": best.pk}, format="json"
    )
    assert again.status_code == 409 and "awaiting review" in again.json()["detail"]
    assert submit(alice, tiny_task, REFERENCE).pk


def test_filing_refuses_others_runs_running_runs_and_claims_the_task_does_not_prove(
    alice: User, bob: User, keras: Any, tiny_task: TaskSpec
) -> None:
    api = api_for(alice)
    theirs = finish(submit(bob, tiny_task, REFERENCE))
    running = submit(alice, tiny_task, REFERENCE)
    done = finish(submit(alice, tiny_task, REFERENCE))
    other_claim = keras.claims.exclude(pk__in=[c.pk for c in tiny_task.claims()]).first()

    def file(run: TrainingRun, claim: int) -> Any:
        return api.post("/api/evidence/", {"kind": "training", "claim": claim, "run": run.pk}, format="json")

    assert file(theirs, tiny_task.claim_id).status_code == 404
    assert file(running, tiny_task.claim_id).status_code == 409
    assert file(done, other_claim.pk).status_code == 400
    assert not Evidence.objects.exists()


def test_a_failing_attempt_is_filed_only_with_a_note(alice: User, tiny_task: TaskSpec) -> None:
    failing = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.2)
    api = api_for(alice)
    body = {"kind": "training", "claim": tiny_task.claim_id, "run": failing.pk}
    refused = api.post("/api/evidence/", body, format="json")
    assert refused.status_code == 400 and "what you want feedback on" in refused.json()["detail"]
    filed = api.post("/api/evidence/", body | {"note": "Why does it plateau at 0.2?"}, format="json")
    assert filed.status_code == 201 and filed.json()["body"] == "Why does it plateau at 0.2?"


def test_cancelled_and_platform_failed_attempts_cannot_be_filed(alice: User, tiny_task: TaskSpec) -> None:
    from trainer.errors import TrainingError
    from trainer.filings import run_file

    lost = finish(submit(alice, tiny_task, REFERENCE), accuracy=None, status="failed", error_kind="worker_lost")
    with pytest.raises(TrainingError, match="platform failed"):
        run_file(run=lost, learner=alice, claim=tiny_task.claim, note="?")


def test_a_passing_attempt_asked_to_be_filed_is_filed_when_it_finishes(alice: User, tiny_task: TaskSpec) -> None:
    from trainer.filings import run_file_automatically

    run = finish(submit(alice, tiny_task, REFERENCE, file_if_passes=True))
    evidence = run_file_automatically(run=run)
    assert evidence is not None and evidence.status == Status.SUBMITTED and evidence.filing.automatic
    # A second passing one is not filed (the first awaits review): the run says why.
    second = finish(submit(alice, tiny_task, REFERENCE, file_if_passes=True))
    assert run_file_automatically(run=second) is None
    second.refresh_from_db()
    assert "Not filed automatically" in second.notices[-1] and "awaiting review" in second.notices[-1]


def test_the_run_page_offers_filing_to_its_learner_only(
    client: Client, alice: User, charlie: User, tiny_task: TaskSpec
) -> None:
    run = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.3)
    client.force_login(alice)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "File as evidence" in page and "What do you want feedback on?" in page
    response = client.post(f"/runs/{run.pk}/file/", {"note": ""})
    assert response.status_code == 400 and "say in a sentence what you want feedback on" in response.content.decode()
    response = client.post(f"/runs/{run.pk}/file/", {"note": "Is the plateau the learning rate?"})
    evidence = Evidence.objects.get()
    assert response.status_code == 302 and response["Location"] == evidence.get_absolute_url()
    client.force_login(charlie)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "File as evidence" not in page
    detail = client.get(evidence.get_absolute_url()).content.decode()
    assert "Is the plateau the learning rate?" in detail and "1 attempt at this task" in detail


def test_a_mentor_lifts_a_learners_limit_on_their_competencys_task(
    client: Client, alice: User, charlie: User, dana: User, tiny_task: TaskSpec
) -> None:
    submit(alice, tiny_task, REFERENCE)
    url = f"/tasks/{tiny_task.slug}/attempts/{alice.pk}/limits/"
    client.force_login(dana)  # mentors another competency
    assert client.post(url, {"attempts_per_day": 100}).status_code == 404
    client.force_login(alice)  # not her own
    assert client.post(url, {"attempts_per_day": 100}).status_code == 404
    client.force_login(charlie)
    page = client.get(f"/tasks/{tiny_task.slug}/attempts/{alice.pk}/").content.decode()
    assert "Change alice's limits on this task" in page and "1 of 20 attempts used" in page
    assert "<title>Attempts of alice at Classify Fashion-MNIST clothing images (tiny) · Skillproof</title>" in page
    assert client.post(url, {"attempts_per_day": 0}).status_code == 400
    response = client.post(url, {"attempts_per_day": 50, "max_active": 4, "reason": "capstone week"})
    assert response.status_code == 302
    quota = quota_for(alice, tiny_task)
    assert (quota.per_day, quota.max_active) == (50, 4)
    assert QuotaOverride.objects.get(learner=alice, task=tiny_task).granted_by == charlie


# --- tiny tasks are for staff ------------------------------------------------------------------------


def test_a_learner_gets_404_on_tiny_tasks_everywhere_and_staff_do_not(
    client: Client, alice: User, admin_user: User, tiny_task: TaskSpec
) -> None:
    TaskSpec.objects.filter(pk=tiny_task.pk).update(is_tiny=True)
    urls = [
        tiny_task.get_absolute_url(), f"/tasks/{tiny_task.slug}/starter.py", f"/tasks/{tiny_task.slug}/starter.ipynb",
        f"/tasks/{tiny_task.slug}/leaderboard/", f"/api/tasks/{tiny_task.slug}/",
    ]  # fmt: skip
    client.force_login(alice)
    assert [client.get(url).status_code for url in urls] == [404] * len(urls)
    assert post_attempt(api_for(alice), tiny_task).status_code == 404
    assert tiny_task.slug not in str(api_for(alice).get("/api/tasks/").json())
    client.force_login(admin_user)
    assert [client.get(url).status_code for url in urls] == [200] * len(urls)
    assert post_attempt(api_for(admin_user), tiny_task).status_code == 201
    staff = make_user("stafford")
    staff.is_staff = True
    staff.save()
    assert post_attempt(api_for(staff), tiny_task).status_code == 201


# --- the fair order ---------------------------------------------------------------------------------


def test_the_queue_takes_learners_in_turns_and_positions_say_so(alice: User, bob: User, tiny_task: TaskSpec) -> None:
    carol = make_user("carol", "learner")
    for learner in (alice, bob, carol):
        QuotaOverride.objects.create(learner=learner, max_active=10)
    a = [submit(alice, tiny_task, REFERENCE) for _ in range(3)]
    b = [submit(bob, tiny_task, REFERENCE) for _ in range(2)]
    c = [submit(carol, tiny_task, REFERENCE)]
    # Alice started a run a minute ago; Bob and Carol never did: they go first, Bob (older queued run) before Carol.
    earlier = finish(submit(alice, tiny_task, REFERENCE))
    TrainingRun.objects.filter(pk=earlier.pk).update(started_at=timezone.now() - timedelta(minutes=1))
    expected = [b[0], c[0], a[0], b[1], a[1], a[2]]
    assert [run.pk for run in fair_order()][:1] == [b[0].pk]
    positions = queue_positions([run.pk for run in a + b + c + [earlier]])
    assert sorted(positions, key=positions.get) == [run.pk for run in expected]
    assert a[2].queue_position() == 6 and b[0].queue_position() == 1 and earlier.queue_position() is None


@pytest.mark.parametrize("learners,runs_each", [(4, 3), (40, 3)])
def test_positions_are_the_dispatchers_order_in_one_query_at_any_queue_length(
    tiny_task: TaskSpec, learners: int, runs_each: int, django_assert_num_queries: Any
) -> None:
    """Positions asked for a few runs cost one query on a queue ten times longer, and say the order the real
    dispatcher then starts every run in (learners who started a run before wait for those who never did)."""
    people = [make_user(f"learner-{n}", "learner") for n in range(learners)]
    created = timezone.now() - timedelta(hours=1)
    queued = []
    for depth in range(runs_each):
        for n, learner in enumerate(reversed(people)):
            run = TrainingRun.objects.create(
                learner=learner, task=tiny_task, dataset=tiny_task.dataset, code_sha256="0" * 64, file_name="a.py",
                created_at=created + timedelta(seconds=depth * learners + n),
            )  # fmt: skip
            queued.append(run)
    for n, learner in enumerate(people[: learners // 2]):  # half of them started a run before, at various times
        TrainingRun.objects.create(
            learner=learner, task=tiny_task, dataset=tiny_task.dataset, code_sha256="0" * 64, file_name="a.py",
            status="succeeded", started_at=created - timedelta(minutes=n % 3), finished_at=created,
        )  # fmt: skip
    asked = [queued[0].pk, queued[-1].pk, queued[len(queued) // 2].pk]
    with django_assert_num_queries(1):
        few = queue_positions(asked)
    assert set(few) == set(asked)
    every = queue_positions([run.pk for run in queued])
    started = []
    while (run := services._dispatch("worker")) is not None:
        started.append(run.pk)
    assert sorted(every, key=every.get) == started and len(started) == len(queued)
    assert all(every[pk] == place for pk, place in few.items())


# --- retention ---------------------------------------------------------------------------------------


def test_old_unfiled_attempts_lose_their_model_but_keep_their_code(
    client: Client, alice: User, tiny_task: TaskSpec, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    old = finish(submit(alice, tiny_task, REFERENCE), artifacts_dir="runs/old", artifact_bytes=10)
    filed = finish(submit(alice, tiny_task, REFERENCE), artifacts_dir="runs/filed", artifact_bytes=10)
    for name in ("old", "filed"):
        (Path(tmp_path) / "runs" / name).mkdir(parents=True)
        (Path(tmp_path) / "runs" / name / "model.keras").write_bytes(b"PK")
    run_file(run=filed, learner=alice, claim=tiny_task.claim)
    long_ago = timezone.now() - timedelta(days=settings.TRAINER_ATTEMPT_RETENTION_DAYS + 1)
    TrainingRun.objects.update(finished_at=long_ago)
    assert attempts_prune() == 1
    old.refresh_from_db()
    assert old.artifacts_pruned_at and old.artifact_bytes == 0 and not (Path(tmp_path) / "runs/old").exists()
    assert (Path(tmp_path) / "runs/filed/model.keras").exists()
    with old.code.open("rb") as code:
        assert code.read() == REFERENCE
    client.force_login(alice)
    assert "were deleted on" in client.get(old.get_absolute_url()).content.decode()
    assert attempts_prune() == 0


# --- hints ------------------------------------------------------------------------------------------


def test_the_stall_rule_is_two_percent_of_chance_on_every_epoch() -> None:
    chance = math.log(10)
    assert learning_stalled([chance * 1.01, chance * 0.99, chance], 10)
    assert not learning_stalled([chance, chance * 0.97], 10)
    assert not learning_stalled([], 10) and not learning_stalled([0.0], 1)


def test_a_stalled_run_says_why_in_plain_words(alice: User, tiny_task: TaskSpec) -> None:
    stalled = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.1)
    TrainingRun.objects.filter(pk=stalled.pk).update(history=[{"epoch": 1, "loss": 2.3026}, {"epoch": 2, "loss": 2.30}])
    stalled.refresh_from_db()
    assert "ln(10)" in stalled.hints()[0] and "scaled twice" in stalled.hints()[0]
    baseline = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.1, history=[{"epoch": 1, "loss": 1.5}])
    assert "trivial model" in baseline.hints()[0]
    good = finish(submit(alice, tiny_task, REFERENCE), accuracy=0.8, history=[{"epoch": 1, "loss": 0.6}])
    assert good.hints() == []
