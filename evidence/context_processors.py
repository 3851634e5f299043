from typing import Any

from django.http import HttpRequest

from evidence.selectors import unread_notification_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    # Lazy: computed only if a template shows the bell.
    return {"unread_count": lambda: unread_notification_count(user)}
