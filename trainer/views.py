"""Task pages, submission, and the live run page (htmx polls a partial; Chart.js draws the curves)."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tracker.errors import DomainError
from tracker.models import Claim, User
from tracker.types import AuthenticatedHttpRequest
from trainer import selectors, services
from trainer.datasets.base import CARD_DIR
from trainer.datasets.cards import card_for_page
from trainer.forms import TrainingSubmitForm
from trainer.models import TrainingRun
from trainer.starters import starter_notebook, starter_py

# URL name -> (file under the run's artifacts folder, content type)
ARTIFACTS = {
    "model.keras": ("model.keras", "application/octet-stream"),
    "architecture.png": ("predict/architecture.png", "image/png"),
}


def claim_task(request: HttpRequest, claim_id: int) -> HttpResponse:
    """Where a claim proven by training is worked on: its task's page (or its competency, if it has none)."""
    claim = get_object_or_404(Claim.objects.select_related("competency"), pk=claim_id, is_active=True)
    task = selectors.claim_task(claim)
    return redirect(task) if task else redirect(claim.competency)


def task_list(request: HttpRequest) -> HttpResponse:
    tasks = list(selectors.tasks_listed())
    return render(request, "trainer/task_list.html", {"tasks": tasks, "catalogue": selectors.catalogue(tasks)})


def task_detail(request: HttpRequest, slug: str) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_all_active(), slug=slug)
    claims = task.claims()
    form = TrainingSubmitForm(request.POST or None, request.FILES or None, claims=claims)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            try:
                evidence = services.training_submit(
                    learner=request.user, claim=form.chosen_claim(), upload=form.cleaned_data["file"],
                    task_slug=task.slug,
                )  # fmt: skip
            except DomainError as error:
                form.add_error("file", error.message)
            else:
                return redirect(evidence.run)
    context = {
        "task": task, "claims": claims, "form": form, "card": card_for_page(task.dataset.stats),
        "leaders": selectors.leaderboard(task, request.user)[:5],
    }  # fmt: skip
    return render(request, "trainer/task_detail.html", context, status=400 if form.errors else 200)


def task_card_picture(request: HttpRequest, slug: str, name: str) -> FileResponse:
    """A dataset card picture: only names the build recorded, read from the dataset's card folder."""
    task = get_object_or_404(selectors.tasks_all_active(), slug=slug)
    stored = f"{CARD_DIR}/{name}"
    if stored not in (task.dataset.stats or {}).get("pictures", []):
        raise Http404("No such picture.")
    path = Path(task.dataset.path) / stored
    if not path.is_file():
        raise Http404("The dataset's pictures are missing; rebuild it with manage.py build_datasets.")
    response = FileResponse(open(path, "rb"), content_type="image/png")  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_http_methods(["GET", "POST"])
def task_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_all_active(), slug=slug)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        show = request.POST.get("show") == "1"
        User.objects.filter(pk=request.user.pk).update(on_leaderboards=show)
        messages.success(request, "You are on the leaderboards." if show else "You are off the leaderboards.")
        return redirect("task-leaderboard", slug=task.slug)
    rows = selectors.leaderboard(task, request.user)
    return render(request, "trainer/leaderboard.html", {"task": task, "rows": rows})


def task_starter_py(request: HttpRequest, slug: str) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_all_active(), slug=slug)
    response = HttpResponse(starter_py(task), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{task.slug}-starter.py"'
    return response


def task_starter_ipynb(request: HttpRequest, slug: str) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_all_active(), slug=slug)
    site = request.build_absolute_uri("/").rstrip("/")
    response = HttpResponse(starter_notebook(task, site_url=site), content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{task.slug}-starter.ipynb"'
    return response


def _visible_run(request: HttpRequest, pk: int) -> TrainingRun:
    return get_object_or_404(selectors.runs_visible_to(request.user), pk=pk)


@login_required
def run_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk)
    return render(
        request, "trainer/run_detail.html", {"run": run, "is_owner": run.evidence.learner_id == request.user.pk}
    )


@login_required
def run_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The live panel; answers 286 once the run is finished, which tells htmx to stop polling."""
    run = _visible_run(request, pk)
    context = {"run": run, "is_owner": run.evidence.learner_id == request.user.pk}
    return render(request, "trainer/_run_status.html", context, status=286 if run.is_finished else 200)


@login_required
@require_POST
def run_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk)
    try:
        services.run_cancel(run=run, user=request.user)
        messages.success(request, "Cancelled." if run.status == TrainingRun.State.QUEUED else "Cancelling…")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(run)


@login_required
def run_artifact(request: AuthenticatedHttpRequest, pk: int, name: str) -> FileResponse:
    run = _visible_run(request, pk)
    stored, content_type = ARTIFACTS.get(name, ("", ""))
    path = run.artifact_path(stored) if stored else None
    if path is None:
        raise Http404("No such file for this run.")
    attachment = name != "architecture.png"
    response = FileResponse(open(path, "rb"), as_attachment=attachment, filename=f"run-{run.pk}-{name}")  # noqa: SIM115
    response["Content-Type"] = content_type
    return response


@login_required
def run_board(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_admin_role or user.mentored_competencies.exists()):
        raise Http404("Only mentors and admins see the training queue.")
    runs = selectors.runs_board(user)
    active = TrainingRun.ACTIVE
    context = {
        "open_runs": list(runs.filter(status__in=active).order_by("created_at")[:200]),
        "finished_runs": list(runs.exclude(status__in=active)[:50]),
    }
    return render(request, "trainer/run_board.html", context)
