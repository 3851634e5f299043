"""Catalogue and account pages that need nothing of evidence or training: the home page and sign-up."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tracker import selectors, services
from tracker.forms import SignupForm


def home(request: HttpRequest) -> HttpResponse:
    competencies = list(selectors.competency_list_published()[:6])
    return render(request, "tracker/home.html", {"competencies": competencies})


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.learner_signup(form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("competency-list")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)
