from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "site_name": "Skillproof",
        "sandbox_off": getattr(settings, "TRAINER_SANDBOX", "") == "none",
        # Lazy: computed only if a template asks.
        "is_mentor": lambda: user.is_authenticated and user.mentored_competencies.exists(),
    }
