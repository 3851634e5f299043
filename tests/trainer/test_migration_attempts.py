"""Runs became attempts (trainer 0004-0006): each existing training evidence keeps its run."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("trainer", "0003_error_kind_choices"),
    ("evidence", "0001_initial"),
    ("tracker", "0003_user_on_leaderboards"),
]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def test_existing_training_evidence_keeps_its_run_as_a_filing() -> None:
    apps = _migrate(BEFORE).loader.project_state(BEFORE).apps
    User = apps.get_model("tracker", "User")
    Competency, Claim = apps.get_model("tracker", "Competency"), apps.get_model("tracker", "Claim")
    Evidence = apps.get_model("evidence", "Evidence")
    Dataset, TaskSpec = apps.get_model("trainer", "Dataset"), apps.get_model("trainer", "TaskSpec")
    TrainingRun = apps.get_model("trainer", "TrainingRun")
    learner = User.objects.create(username="old-learner")
    competency = Competency.objects.create(title="Old", slug="old", status="published")
    claim = Claim.objects.create(competency=competency, order=1, text="Old claim", evidence_kinds=["training"])
    evidence = Evidence.objects.create(
        learner=learner, claim=claim, competency=competency, kind="training", status="submitted",
        file="evidence/1/abc/model.py", file_name="model.py", file_size=123, file_sha256="0" * 64,
    )  # fmt: skip
    dataset = Dataset.objects.create(slug="d", version="1", title="d", path="/nowhere", checksum="0")
    task = TaskSpec.objects.create(slug="old-task", title="t", claim=claim, dataset=dataset, brief="b", threshold=0.5)
    run = TrainingRun.objects.create(
        evidence=evidence, task=task, dataset=dataset, source_kind="py", code_sha256="0" * 64, status="succeeded"
    )

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    apps = _migrate(latest).loader.project_state(latest).apps
    migrated = apps.get_model("trainer", "TrainingRun").objects.get(pk=run.pk)
    assert (migrated.learner_id, migrated.claim_id) == (learner.pk, claim.pk)
    assert (migrated.code.name, migrated.file_name, migrated.file_size) == ("evidence/1/abc/model.py", "model.py", 123)
    filing = apps.get_model("trainer", "Filing").objects.get(run=migrated)
    assert filing.evidence_id == evidence.pk and not filing.automatic
