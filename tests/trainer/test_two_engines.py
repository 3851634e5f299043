"""Claim 2 (the learner knows which backend they use) is proven by two scored runs of one task on different
backends, filed together; the mentor sees them side by side. The runs are left as the worker leaves them (the
engine tests train on each backend for real)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from evidence.models import Evidence
from tests.trainer.conftest import REFERENCE, submit
from tests.trainer.test_attempts import api_for, finish
from tracker.models import Claim, User
from trainer.models import TaskSpec, TrainingRun

pytestmark = pytest.mark.django_db

VERSIONS = {
    "tensorflow": {"keras": "3.15.1", "backend": "tensorflow", "tensorflow": "2.21.0", "device": "CPU"},
    "jax": {"keras": "3.15.1", "backend": "jax", "jax": "0.10.2", "jaxlib": "0.10.2", "device": "CPU"},
}


def scored(learner: User, task: TaskSpec, engine: str, accuracy: float, seconds: list[float]) -> TrainingRun:
    run = submit(learner, task, REFERENCE, engine=engine)
    history = [{"epoch": n, "loss": 1.0 / n, "accuracy": accuracy, "seconds": s} for n, s in enumerate(seconds, 1)]
    return finish(run, accuracy=accuracy, environment=VERSIONS[engine], history=history, timings={"train": 9.5})


@pytest.fixture
def backend_claim(tiny_task: TaskSpec) -> Claim:
    [claim] = tiny_task.two_engine_claims.all()
    assert claim.order == 2 and claim in tiny_task.claims()
    return claim


def file(learner: User, run: TrainingRun, claim: Claim, companion: TrainingRun | None = None, **extra: Any) -> Any:
    body = {"kind": "training", "claim": claim.pk, "run": run.pk} | extra
    if companion is not None:
        body["companion"] = companion.pk
    return api_for(learner).post("/api/evidence/", body, format="json")


def test_claim_2_takes_a_second_run_on_another_backend(alice: User, tiny_task: TaskSpec, backend_claim: Claim) -> None:
    tf = scored(alice, tiny_task, "tensorflow", 0.81, [2.0, 1.5])
    tf_again = scored(alice, tiny_task, "tensorflow", 0.79, [2.1, 1.4])
    alone = file(alice, tf, backend_claim)
    assert alone.status_code == 400
    assert "another backend (Keras 3 on JAX, Keras 3 on PyTorch)" in alone.json()["detail"]
    same = file(alice, tf, backend_claim, tf_again)
    assert same.status_code == 400 and "Both attempts ran on tensorflow" in same.json()["detail"]
    assert not Evidence.objects.exists()

    jax = scored(alice, tiny_task, "jax", 0.80, [4.0, 1.1])
    filed = file(alice, tf, backend_claim, jax)
    assert filed.status_code == 201, filed.json()
    assert filed.json()["run"] == tf.pk and filed.json()["companion"] == jax.pk
    evidence = Evidence.objects.get()
    assert evidence.filing.run == tf and evidence.filing.companion == jax and evidence.claim == backend_claim


def test_the_second_run_must_be_theirs_scored_and_of_the_same_task(
    alice: User, bob: User, tiny_task: TaskSpec, backend_claim: Claim
) -> None:
    tf = scored(alice, tiny_task, "tensorflow", 0.81, [2.0])
    bobs = scored(bob, tiny_task, "jax", 0.80, [1.0])
    assert file(alice, tf, backend_claim, bobs).status_code == 404  # someone else's run is not disclosed
    crashed = finish(submit(alice, tiny_task, REFERENCE, engine="jax"), accuracy=None, status="failed",
                     error_kind="crashed")  # fmt: skip
    refused = file(alice, tf, backend_claim, crashed, note="It crashed on JAX, why?")
    assert refused.status_code == 400 and f"Attempt #{crashed.pk} was not scored" in refused.json()["detail"]
    other = TaskSpec.objects.get(pk=tiny_task.pk)
    other.pk, other.slug = None, "fashion-mnist-tiny-copy"
    other.save()
    elsewhere = scored(alice, other, "jax", 0.8, [1.0])
    refused = file(alice, tf, backend_claim, elsewhere)
    assert refused.status_code == 400 and "same task" in refused.json()["detail"]
    assert not Evidence.objects.exists()


def test_other_claims_take_one_run(alice: User, tiny_task: TaskSpec) -> None:
    tf = scored(alice, tiny_task, "tensorflow", 0.81, [2.0])
    jax = scored(alice, tiny_task, "jax", 0.80, [1.0])
    refused = file(alice, tf, tiny_task.claim, jax)
    assert refused.status_code == 400 and "proven by one attempt" in refused.json()["detail"]
    assert file(alice, tf, tiny_task.claim).status_code == 201


def test_the_mentor_sees_both_runs_side_by_side(
    client: Client, alice: User, charlie: User, tiny_task: TaskSpec, backend_claim: Claim
) -> None:
    tf = scored(alice, tiny_task, "tensorflow", 0.8125, [2.5, 1.5, 1.25])
    jax = scored(alice, tiny_task, "jax", 0.7975, [6.0, 0.75, 0.5])
    evidence = Evidence.objects.get(pk=file(alice, tf, backend_claim, jax).json()["id"])
    client.force_login(charlie)
    page = client.get(evidence.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    table = html[html.index('class="table small side-by-side"') :]
    table = table[: table.index("</table>")]
    for expected in (
        f"#{tf.pk}", f"#{jax.pk}", "Keras 3 on TensorFlow", "Keras 3 on JAX", "<td>tensorflow</td>", "<td>jax</td>",
        "<td>2.21.0</td>", "<td>0.10.2</td>", "0.8125 (pass at 0.5)", "0.7975 (pass at 0.5)",
        "<td>1.50 s</td>", "<td>0.75 s</td>",  # median seconds per epoch
        "<td>2.50 s</td>", "<td>6.00 s</td>",  # the first epoch (JAX compiles in it)
        "2.50, 1.50, 1.25", "6.00, 0.75, 0.50",
    ):  # fmt: skip
        assert expected in table, (expected, table)
    assert client.get(jax.get_absolute_url()).status_code == 200  # the mentor may open the second run too
    # The learner's own evidence page shows the same; the API names both runs.
    client.force_login(alice)
    assert 'class="table small side-by-side"' in client.get(evidence.get_absolute_url()).content.decode()
    assert api_for(charlie).get(f"/api/evidence/{evidence.pk}/").json()["companion"] == jax.pk


def test_the_run_page_offers_runs_on_other_backends_and_the_task_page_explains(
    client: Client, alice: User, tiny_task: TaskSpec, backend_claim: Claim
) -> None:
    tf = scored(alice, tiny_task, "tensorflow", 0.81, [2.0])
    tf_again = scored(alice, tiny_task, "tensorflow", 0.82, [2.0])
    jax = scored(alice, tiny_task, "jax", 0.80, [1.0])
    client.force_login(alice)
    page = client.get(tf.get_absolute_url()).content.decode()
    select = page[page.index('name="companion"') :]
    select = select[: select.index("</select>")]
    assert f"#{jax.pk} · Keras 3 on JAX" in select and f"#{tf_again.pk}" not in select
    response = client.post(
        f"/runs/{tf.pk}/file/", {"claim": backend_claim.pk, "companion": jax.pk, "note": ""}, follow=True
    )
    assert response.status_code == 200
    evidence = Evidence.objects.get()
    assert evidence.filing.companion == jax and response.redirect_chain[-1][0] == evidence.get_absolute_url()
    refused = client.post(f"/runs/{tf_again.pk}/file/", {"claim": backend_claim.pk, "note": ""})
    assert refused.status_code == 400  # the claim already has evidence awaiting review, said on the form
    task_page = client.get(tiny_task.get_absolute_url()).content.decode()
    assert "Claim 2 takes two backends." in task_page and "Keras 3 on JAX, Keras 3 on PyTorch" in task_page


def test_the_credential_names_both_backends(
    alice: User, charlie: User, keras: Any, tiny_task: TaskSpec, backend_claim: Claim, settings: Any, tmp_path: Any
) -> None:
    from credentials.keys import keyfile_create
    from credentials.models import IssuedCredential
    from evidence.services import EvidenceInput, evidence_create, review_record

    settings.CREDENTIALS_SIGNING_KEY, settings.CREDENTIALS_KEY_FILE = "", tmp_path / "keys"
    keyfile_create(settings.CREDENTIALS_KEY_FILE)
    tf = scored(alice, tiny_task, "tensorflow", 0.8125, [2.0])
    jax = scored(alice, tiny_task, "jax", 0.7975, [1.0])
    review_record(evidence=Evidence.objects.get(pk=file(alice, tf, backend_claim, jax).json()["id"]),
                  reviewer=charlie, decision="approve")  # fmt: skip
    for claim in keras.active_claims().filter(required=True).exclude(pk=backend_claim.pk):
        data = EvidenceInput(kind="written", body=f"My answer to {claim.text}, in enough words to count.")
        review_record(evidence=evidence_create(learner=alice, claim=claim, data=data, submit=True), reviewer=charlie,
                      decision="approve")  # fmt: skip
    document = IssuedCredential.objects.get(learner=alice, competency=keras).document
    [narrative] = [e["narrative"] for e in document["evidence"] if e["name"].startswith("Claim 2:")]
    assert "accuracy 0.8125" in narrative and "Keras 3.15.1 on tensorflow (TensorFlow 2.21.0), CPU" in narrative
    assert "another backend: accuracy 0.7975" in narrative and "Keras 3.15.1 on jax (JAX 0.10.2" in narrative
