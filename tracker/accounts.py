"""Sign-up by e-mail confirmation, answered the same whether or not the address already has an account.

A new account starts inactive and becomes active from the link mailed to its address. An address that already has
an account gets a mail saying so instead (with the activation link again if it never activated), so the page
never tells a stranger which addresses are registered.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from tracker.forms import SignupForm
from tracker.models import User
from tracker.roles import role_grant

logger = logging.getLogger(__name__)


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Links valid for PASSWORD_RESET_TIMEOUT, dead once the account is active; never usable as a reset link."""

    key_salt = "tracker.accounts.ActivationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        return f"{user.pk}{user.is_active}{user.password}{timestamp}{user.email}"


activation_tokens = ActivationTokenGenerator()


def learner_signup(*, form: SignupForm) -> None:
    """Start an account from a valid sign-up form (every new account is a learner), or tell the address's owner."""
    existing = User.objects.filter(email__iexact=form.cleaned_data["email"]).first()
    if existing is None:
        with transaction.atomic():
            user = form.save(commit=False)
            user.is_active = False
            user.save()
            role_grant(user=user, role="learner")
        _mail(user, "registration/signup_email.txt", activation_link(user))
        return
    # As much work as creating the account, so that the time taken tells nothing either.
    make_password(form.cleaned_data["password1"])
    link = "" if existing.is_active else activation_link(existing)
    _mail(existing, "registration/signup_exists_email.txt", link)


def activation_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return settings.SITE_URL + reverse("activate", args=[uid, activation_tokens.make_token(user)])


def account_activate(*, uidb64: str, token: str) -> User | None:
    """Activate the account the link names; None if the link is wrong, expired or already used."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, UnicodeDecodeError, User.DoesNotExist):
        return None
    if user.is_active or not activation_tokens.check_token(user, token):
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


def _mail(user: User, template: str, link: str) -> None:
    site = settings.SITE_URL
    context = {
        "user": user,
        "link": link,
        "login_url": site + reverse("login"),
        "reset_url": site + reverse("password_reset"),
    }
    body = render_to_string(template, context)
    try:
        send_mail("[Skillproof] Your account", body, None, [user.email])
    except OSError:
        # The page answers the same either way; a second sign-up sends the link again.
        logger.exception("Could not send the sign-up e-mail to user %s", user.pk)
