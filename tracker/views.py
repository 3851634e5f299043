"""Catalogue and account pages that need nothing of evidence or training: home, sign-up, API tokens."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from tracker import accounts, selectors, throttling, tokens
from tracker.forms import ApiTokenForm, SignupForm
from tracker.models import User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def home(request: HttpRequest) -> HttpResponse:
    competencies = list(selectors.competency_list_published()[:6])
    return render(request, "tracker/home.html", {"competencies": competencies})


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        address, email = throttling.client_address(request), request.POST.get("email", "")
        wait = throttling.rate_limit_hit(scope="signup", address=address, account=email)
        if wait:
            return throttling.too_many_requests(request, seconds=wait)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.learner_signup(form=form)
        return redirect("signup-done")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/signup_done.html")


def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    if accounts.account_activate(uidb64=uidb64, token=token):
        messages.success(request, "Your account is active. Log in to start.")
    else:
        messages.error(request, "That link has expired or was used already. Log in, or sign up again for a new one.")
    return redirect("login")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with each request counted per address and per e-mail address (it sends mail)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address, email = throttling.client_address(request), request.POST.get("email", "")
        wait = throttling.rate_limit_hit(scope="password_reset", address=address, account=email)
        if wait:
            return throttling.too_many_requests(request, seconds=wait)
        return super().post(request, *args, **kwargs)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a new one's secret is shown in the answer to the POST that made it, and never again."""
    form = ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _token, secret = tokens.api_token_create(user=_user(request), name=form.cleaned_data["name"])
        form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": tokens.api_tokens_of(_user(request)),
        "secret": secret,
        "token_days": settings.API_TOKEN_DAYS,
    }
    response = render(request, "tracker/api_tokens.html", context, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if not tokens.api_token_revoke(user=_user(request), token_id=token_id):
        raise Http404("No such token.")
    messages.success(request, "Token revoked: it no longer works.")
    return redirect("api-tokens")


def _wants_json(request: HttpRequest) -> bool:
    if request.GET.get("format") == "json":
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


@require_GET
def case_node(request: HttpRequest, identifier: uuid.UUID) -> HttpResponse:
    """A CASE record's URI, resolved: its JSON for programs (Accept: application/json, or ?format=json), a page
    for people. Credentials align their achievement to these URIs, so they must answer for as long as those do."""
    node = selectors.case_node(identifier=identifier)
    if node is None:
        raise Http404("No such CASE record.")
    if _wants_json(request):
        response: HttpResponse = JsonResponse(node.record, json_dumps_params={"indent": 2})
        response["Access-Control-Allow-Origin"] = "*"  # verifiers and CASE tools read it from their own pages
    else:
        response = render(request, "tracker/case_node.html", {"node": node, "record": node.record})
    patch_vary_headers(response, ["Accept"])
    return response


@require_GET
def framework_list(request: HttpRequest) -> HttpResponse:
    frameworks = selectors.framework_list_visible()
    return render(request, "tracker/framework_list.html", {"frameworks": frameworks})


@require_GET
def framework_detail(request: HttpRequest, uuid: uuid.UUID) -> HttpResponse:
    """A framework as its tree: grouping nodes, the competencies learners earn and the claims they prove."""
    framework = get_object_or_404(selectors.framework_list_visible(), uuid=uuid)
    roots = [node for node in framework.roots() if node.retired_at is None]
    return render(request, "tracker/framework_detail.html", {"framework": framework, "roots": roots})
