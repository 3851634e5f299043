"""`manage.py check --deploy`: production has an issuer key, and its key file is private."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from credentials.keys import SigningKeyMissing, issuer_keys


# A deploy check, like Django's own SECRET_KEY checks: build and setup steps (collectstatic, sandbox_setup,
# migrations-check) run with DEBUG=0 and no key, and must not need one; `check --deploy`, which the compose
# file's web service runs before anything else, refuses to go on without one.
@register("credentials", deploy=True)
def signing_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    try:
        issuer_keys()
    except SigningKeyMissing as error:
        return [Error(str(error), hint="See README, Credentials: key handling.", id="credentials.E001")]
    path = Path(settings.CREDENTIALS_KEY_FILE)
    if not settings.CREDENTIALS_SIGNING_KEY.strip() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [
            Warning(f"{path} is readable by others than its owner.", hint=f"chmod 600 {path}", id="credentials.W001")
        ]
    return []
