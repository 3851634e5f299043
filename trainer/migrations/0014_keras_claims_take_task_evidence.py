"""A database that loaded the shipped Keras competency before the export and R tasks existed still has its claims
as the seed then defined them: claim 4 (Keras vs tf.keras) took written and link evidence only, and claim 6 (Keras
from R) was optional with the default kinds, because R could not run. `setup_demo` never reloads a competency that
exists (an admin's edits must survive a restart), so without this migration those installations keep a task that
files training evidence against a claim that refuses it, and an optional claim 6.

A claim is brought to the shipped definition only while it is exactly as that earlier seed left it (same text,
kinds and required flag): a claim an admin has edited since is theirs, and stays as it is. Each changed claim and
its competency get a new version, as an edit in the admin would (the credentials and the CASE document carry it).
"""

from django.db import migrations
from django.db.models import F

KERAS_VS_TF_KERAS = "You know the differences between Keras and tf.keras, especially for production."
KERAS_FROM_R = "You can develop and implement Big Data and Data Science algorithms with Keras from R."

# (order, text, kinds and required as the earlier seed left them) -> (kinds and required as shipped now)
UPDATES = [
    ((4, KERAS_VS_TF_KERAS, ["written", "link"], True), (["training", "written", "link"], True)),
    (
        (6, KERAS_FROM_R, ["written", "link", "file", "notebook"], False),
        (["training", "written", "link", "file", "notebook"], True),
    ),
]


def forwards(apps, schema_editor):
    Claim = apps.get_model("tracker", "Claim")
    Competency = apps.get_model("tracker", "Competency")
    for (order, text, old_kinds, old_required), (kinds, required) in UPDATES:
        for claim in Claim.objects.filter(competency__slug="keras", order=order, text=text, required=old_required):
            if list(claim.evidence_kinds) != old_kinds:
                continue
            claim.evidence_kinds, claim.required, claim.version = kinds, required, claim.version + 1
            claim.save(update_fields=["evidence_kinds", "required", "version"])
            Competency.objects.filter(pk=claim.competency_id).update(version=F("version") + 1)


def backwards(apps, schema_editor):
    Claim = apps.get_model("tracker", "Claim")
    for (order, text, old_kinds, old_required), (kinds, required) in UPDATES:
        for claim in Claim.objects.filter(competency__slug="keras", order=order, text=text, required=required):
            if list(claim.evidence_kinds) == kinds:
                claim.evidence_kinds, claim.required = old_kinds, old_required
                claim.save(update_fields=["evidence_kinds", "required"])


class Migration(migrations.Migration):
    dependencies = [
        ("trainer", "0013_r_engine_regression"),
        ("tracker", "0005_api_tokens_from_authtoken"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
