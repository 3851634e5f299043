"""The domain's refusal, shared by every app: a sentence for the person who asked, and its HTTP status.

It lives here, at the bottom of the dependency order (trainer → evidence → tracker), so that each
app raises its own subclass and pages and the API answer all of them the same way.
"""

from __future__ import annotations


class DomainError(Exception):
    """An action that the state of things, or the person asking, does not allow.

    Views turn it into a form or page message and the API into a 4xx answer; nothing is half-saved.

    Args:
        message: a sentence for the person who asked.
        status: the HTTP status that describes the refusal (400 bad input, 403 not yours, 404, 409 state).
    """

    # Seconds after which the same request can succeed (answered as Retry-After), for a limit reached.
    retry_after: int | None = None

    def __init__(self, message: str, status: int = 409) -> None:
        self.message, self.status = message, status
        super().__init__(message)
