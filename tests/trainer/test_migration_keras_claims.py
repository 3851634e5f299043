"""trainer 0014: a database loaded with the earlier Keras seed gets claims 4 and 6 as shipped now (training evidence,
claim 6 required), unless an admin has edited them since."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("trainer", "0013_r_engine_regression"), ("tracker", "0005_api_tokens_from_authtoken")]
VS_TF_KERAS = "You know the differences between Keras and tf.keras, especially for production."
FROM_R = "You can develop and implement Big Data and Data Science algorithms with Keras from R."


def _apps(targets: list[tuple[str, str]] | None = None):  # type: ignore[no-untyped-def]
    """Migrate to targets (default: every app's latest, so the tests after these find the schema they expect)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _claims(apps, slug: str, *, edited: bool = False):  # type: ignore[no-untyped-def]
    Competency, Claim = apps.get_model("tracker", "Competency"), apps.get_model("tracker", "Claim")
    competency = Competency.objects.create(title=slug.title(), slug=slug, status="published")
    four = Claim.objects.create(competency=competency, order=4, text=VS_TF_KERAS, evidence_kinds=["written", "link"])
    six = Claim.objects.create(
        competency=competency, order=6, text=FROM_R, required=False,
        evidence_kinds=["written", "link"] if edited else ["written", "link", "file", "notebook"],
    )  # fmt: skip
    return competency, four, six


def test_the_earlier_seeds_claims_take_training_evidence_and_claim_6_is_required_again() -> None:
    apps = _apps(BEFORE)
    keras, four, six = _claims(apps, "keras")
    _, other_four, _ = _claims(apps, "not-keras")

    apps = _apps()
    Claim, Competency = apps.get_model("tracker", "Claim"), apps.get_model("tracker", "Competency")
    four, six = Claim.objects.get(pk=four.pk), Claim.objects.get(pk=six.pk)
    assert (four.evidence_kinds, four.required, four.version) == (["training", "written", "link"], True, 2)
    assert (six.evidence_kinds, six.required) == (["training", "written", "link", "file", "notebook"], True)
    assert Competency.objects.get(pk=keras.pk).version == keras.version + 2
    # Another competency with the same words is not the shipped Keras competency.
    assert Claim.objects.get(pk=other_four.pk).evidence_kinds == ["written", "link"]


def test_a_claim_an_admin_edited_since_stays_as_they_left_it() -> None:
    apps = _apps(BEFORE)
    _, _, six = _claims(apps, "keras", edited=True)

    apps = _apps()
    six = apps.get_model("tracker", "Claim").objects.get(pk=six.pk)
    assert (six.evidence_kinds, six.required) == (["written", "link"], False)
