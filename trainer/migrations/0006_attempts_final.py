import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("trainer", "0005_attempts_data"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(model_name="trainingrun", name="evidence"),
        migrations.AlterField(
            model_name="trainingrun",
            name="learner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="training_runs", to=settings.AUTH_USER_MODEL
            ),
        ),
    ]
