"""Every competency written before frameworks existed becomes a framework of one competency whose claims are its
claims (in claim order; retired claims as retired nodes). Claim id numbers are what the Moodle export already wrote
for them ("<slug>-01"...), so a file exported before this migration re-imports onto the same claims."""

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Competency = apps.get_model("tracker", "Competency")
    Framework = apps.get_model("tracker", "Framework")
    FrameworkNode = apps.get_model("tracker", "FrameworkNode")
    now = timezone.now()
    for competency in Competency.objects.order_by("pk"):
        framework = Framework.objects.create(
            title=competency.title[:200], idnumber=competency.slug[:100], description=competency.description
        )
        root = FrameworkNode.objects.create(
            framework=framework,
            role="competency",
            short_name=competency.title,
            idnumber=competency.slug[:100],
            competency=competency,
            source_data={"is_framework": True},
        )
        claims = competency.claims.order_by("order", "id")
        for n, claim in enumerate(claims, start=1):
            FrameworkNode.objects.create(
                framework=framework,
                parent=root,
                order=n,
                role="claim",
                short_name=claim.text[:1000],
                idnumber=f"{competency.slug}-{n:02d}"[:100],
                claim=claim,
                retired_at=None if claim.is_active else now,
            )


class Migration(migrations.Migration):
    dependencies = [("tracker", "0006_frameworks")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
