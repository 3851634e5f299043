"""DRF's plain-text tokens (rest_framework.authtoken, no longer installed) become hashed, expiring API tokens.

Each keeps working under its old key, so notebooks in use go on working, until API_TOKEN_DAYS from now or the
user's next password change. The plain-text keys are then deleted; the emptied table is left for the app's
own migrations, should it ever come back. A database that never had the table skips all this.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

LEGACY_TABLE = "authtoken_token"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("tracker", "ApiToken")
    User = apps.get_model("tracker", "User")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {LEGACY_TABLE}")
        rows = cursor.fetchall()
    passwords = dict(User.objects.filter(pk__in=[user_id for _key, user_id in rows]).values_list("pk", "password"))
    expires_at = timezone.now() + timedelta(days=getattr(settings, "API_TOKEN_DAYS", 30))
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="API token made before tokens expired",
            digest=sha256(key),
            hint=key[:6],
            password_fingerprint=sha256(passwords[user_id]),
            expires_at=expires_at,
        )
        for key, user_id in rows
        if user_id in passwords
    )
    schema_editor.execute(f"DELETE FROM {LEGACY_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("tracker", "0004_api_tokens")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
