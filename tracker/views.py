from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tracker import health, selectors, services
from tracker.forms import SignupForm
from tracker.standing import standing_by_competency


def home(request: HttpRequest) -> HttpResponse:
    competencies = list(selectors.competency_list_published()[:6])
    return render(request, "tracker/home.html", {"competencies": competencies})


def competency_list(request: HttpRequest) -> HttpResponse:
    competencies = list(selectors.competency_list_published())
    standings = standing_by_competency(user=request.user, competencies=competencies)
    rows = [(c, standings.get(c.pk)) for c in competencies]
    return render(request, "tracker/competency_list.html", {"rows": rows})


def competency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    competency = get_object_or_404(selectors.competency_detail_queryset(), slug=slug)
    standing = standing_by_competency(user=request.user, competencies=[competency]).get(competency.pk)
    return render(request, "tracker/competency_detail.html", {"competency": competency, "standing": standing})


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.learner_signup(form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("competency-list")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health.check_all()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed name exists only once collectstatic has run.
    return redirect(static("img/favicon.svg"), permanent=True)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
