"""Typing helpers shared by views."""

from django.http import HttpRequest

from tracker.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind `login_required`: `user` is a real User, never AnonymousUser."""

    user: User
