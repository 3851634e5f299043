from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"site_name": "Skillproof", "sandbox_off": getattr(settings, "TRAINER_SANDBOX", "") == "none"}
