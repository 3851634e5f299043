from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    from evidence.selectors import unread_notification_count

    user = request.user
    return {
        "site_name": "Skillproof",
        "sandbox_off": getattr(settings, "TRAINER_SANDBOX", "") == "none",
        # Lazy: computed only if a template shows the bell.
        "unread_count": lambda: unread_notification_count(user),
        "is_mentor": lambda: user.is_authenticated and user.mentored_competencies.exists(),
    }
