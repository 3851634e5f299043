"""Each existing training evidence keeps its run: the run gets the learner, the claim and the code, and a
Filing links them (runs become attempts; evidence cites the run it was filed from)."""

from django.db import migrations


def runs_to_attempts(apps, schema_editor):
    TrainingRun = apps.get_model("trainer", "TrainingRun")
    Filing = apps.get_model("trainer", "Filing")
    for run in TrainingRun.objects.exclude(evidence=None).select_related("evidence").iterator():
        evidence = run.evidence
        run.learner_id = evidence.learner_id
        run.claim_id = evidence.claim_id
        run.code = evidence.file.name  # the same stored file: nothing is copied
        run.file_name = evidence.file_name
        run.file_size = evidence.file_size or 0
        run.save(update_fields=["learner", "claim", "code", "file_name", "file_size"])
        Filing.objects.create(run=run, evidence=evidence)


def attempts_to_runs(apps, schema_editor):
    Filing = apps.get_model("trainer", "Filing")
    for filing in Filing.objects.select_related("run").iterator():
        filing.run.evidence_id = filing.evidence_id
        filing.run.save(update_fields=["evidence"])


class Migration(migrations.Migration):
    dependencies = [("trainer", "0004_attempts")]

    operations = [migrations.RunPython(runs_to_attempts, attempts_to_runs)]
