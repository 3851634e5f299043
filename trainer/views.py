"""Task pages, submission, and the live run page (htmx polls a partial; Chart.js draws the curves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tracker.errors import DomainError
from tracker.models import Claim, User
from tracker.types import AuthenticatedHttpRequest
from trainer import engines, filings, selectors, services
from trainer.datasets.base import CARD_DIR
from trainer.datasets.cards import card_for_page
from trainer.forms import CompareForm, FilingForm, QuotaLiftForm, TrainingSubmitForm
from trainer.models import TaskSpec, TrainingRun
from trainer.quotas import quota_for, quota_lift
from trainer.starters import starter_notebook, starter_py, starter_r

# The task page lists this many of the learner's attempts (all of them are on the API).
ATTEMPTS_SHOWN = 50

# URL name -> (file under the run's artifacts folder, content type)
ARTIFACTS = {
    "model.keras": ("model.keras", "application/octet-stream"),
    "architecture.png": ("predict/architecture.png", "image/png"),
}


def claim_task(request: HttpRequest, claim_id: int) -> HttpResponse:
    """Where a claim proven by training is worked on: its task's page (or its competency, if it has none)."""
    claim = get_object_or_404(Claim.objects.select_related("competency"), pk=claim_id, is_active=True)
    task = selectors.claim_task(claim)
    visible = task is not None and selectors.tasks_visible_to(request.user).filter(pk=task.pk).exists()
    return redirect(task) if task and visible else redirect(claim.competency)


def task_list(request: HttpRequest) -> HttpResponse:
    tasks = list(selectors.tasks_listed())
    return render(request, "trainer/task_list.html", {"tasks": tasks, "catalogue": selectors.catalogue(tasks)})


def task_detail(request: HttpRequest, slug: str) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_visible_to(request.user), slug=slug)
    form = TrainingSubmitForm(request.POST or None, request.FILES or None, claims=task.claims(), task=task)
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if form.is_valid():
            try:
                run = services.attempt_submit(
                    learner=request.user, task=task, upload=form.cleaned_data["file"], claim=form.chosen_claim(),
                    file_if_passes=form.cleaned_data["file_if_passes"], engine=form.cleaned_data.get("engine") or None,
                )  # fmt: skip
            except DomainError as error:
                form.add_error("file", error.message)
                status = error.status
            else:
                return redirect(run)
    context = {
        "task": task, "claims": task.claims(), "form": form, "card": card_for_page(task.dataset.stats),
        "two_engine_claims": list(task.two_engine_claims.order_by("order")),
        "engine_labels": [engines.label(engine) for engine in task.allowed_engines()],
        "leaders": selectors.leaderboard(task, request.user)[:5], **_learner_panel(request, task),
    }  # fmt: skip
    return render(request, "trainer/task_detail.html", context, status=400 if status == 200 and form.errors else status)


def _learner_panel(request: HttpRequest, task: TaskSpec) -> dict[str, Any]:
    """The signed-in learner's attempts at the task, their best, their quota, and two attempts' curves."""
    if not request.user.is_authenticated:
        return {}
    attempts = list(selectors.attempts_of(request.user, task)[:ATTEMPTS_SHOWN])
    compare = CompareForm(request.GET or None, runs=attempts)
    chosen = compare.cleaned_data if compare.is_valid() else {}
    by_id = {run.pk: run for run in attempts}
    picked = [by_id[pk] for pk in (chosen.get("a"), chosen.get("b")) if pk in by_id]
    curves = [{"label": f"#{run.pk}", "history": run.history} for run in picked]
    return {
        "attempts": attempts, "best": selectors.attempts_summary(request.user, task).best,
        "quota": quota_for(request.user, task), "compare": compare, "curves": curves,
    }  # fmt: skip


def task_card_picture(request: HttpRequest, slug: str, name: str) -> FileResponse:
    """A dataset card picture: only names the build recorded, read from the dataset's card folder."""
    task = get_object_or_404(selectors.tasks_visible_to(request.user), slug=slug)
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
    task = get_object_or_404(selectors.tasks_visible_to(request.user), slug=slug)
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
    task = get_object_or_404(selectors.tasks_visible_to(request.user), slug=slug)
    response = HttpResponse(starter_py(task), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{task.slug}-starter.py"'
    return response


def task_starter_r(request: HttpRequest, slug: str) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_visible_to(request.user), slug=slug)
    script = starter_r(task)
    if script is None:
        raise Http404("This task is not done in R.")
    response = HttpResponse(script, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{task.slug}-starter.R"'
    return response


def task_starter_ipynb(request: HttpRequest, slug: str) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_visible_to(request.user), slug=slug)
    site = request.build_absolute_uri("/").rstrip("/")
    response = HttpResponse(starter_notebook(task, site_url=site), content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{task.slug}-starter.ipynb"'
    return response


def _visible_run(request: HttpRequest, pk: int) -> TrainingRun:
    return get_object_or_404(selectors.runs_visible_to(request.user), pk=pk)


def _run_context(
    request: AuthenticatedHttpRequest, run: TrainingRun, filing: FilingForm | None = None
) -> dict[str, Any]:
    is_owner = run.learner_id == request.user.pk
    filings = list(run.filings.select_related("evidence__claim"))
    unfiled = {c.pk for c in run.task.claims()} - {f.evidence.claim_id for f in filings}
    if filing is None and is_owner and run.can_be_filed and unfiled:
        filing = FilingForm(run=run)
    return {
        "run": run, "is_owner": is_owner, "filing_form": filing, "filings": filings,
        "no_worker_minutes": settings.TRAINER_NO_WORKER_MINUTES,
    }  # fmt: skip


@login_required
def run_detail(request: AuthenticatedHttpRequest, pk: int, filing: FilingForm | None = None) -> HttpResponse:
    context = _run_context(request, _visible_run(request, pk), filing)
    return render(request, "trainer/run_detail.html", context, status=400 if filing and filing.errors else 200)


@login_required
@require_POST
def run_file(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """File one of the learner's finished attempts as evidence for a claim its task proves."""
    run = _visible_run(request, pk)
    form = FilingForm(request.POST, run=run)
    if form.is_valid():
        try:
            evidence = filings.run_file(
                run=run, learner=request.user, claim=form.chosen_claim(), note=form.cleaned_data["note"],
                companion=form.chosen_companion(),
            )  # fmt: skip
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Filed: it is in your mentor's review queue.")
            return redirect(evidence)
    return run_detail(request, pk, filing=form)


@login_required
def learner_attempts(
    request: AuthenticatedHttpRequest, slug: str, learner_id: int, lift_form: QuotaLiftForm | None = None
) -> HttpResponse:
    """One learner's attempts at one task: for them, their mentors and admins (the path, not only the result)."""
    task = get_object_or_404(selectors.tasks_all_active(), slug=slug)
    learner = get_object_or_404(User, pk=learner_id)
    runs = selectors.runs_visible_to(request.user).filter(learner=learner, task=task).order_by("-created_at", "-pk")
    if learner.pk != request.user.pk and not runs.exists():
        raise Http404("No attempts you may see.")
    runs = runs.prefetch_related("filings")[:500]
    context = {
        "task": task, "learner": learner, "runs": runs, "summary": selectors.attempts_summary(learner, task),
        "quota": quota_for(learner, task), "lift_form": lift_form or QuotaLiftForm(),
        "can_lift": learner.pk != request.user.pk
        and (request.user.is_admin_role or request.user.mentors(task.claim.competency)),
    }  # fmt: skip
    return render(request, "trainer/learner_attempts.html", context, status=400 if lift_form else 200)


@login_required
@require_POST
def learner_limits(request: AuthenticatedHttpRequest, slug: str, learner_id: int) -> HttpResponse:
    """A mentor lifts (or sets) a learner's limits on one task."""
    task = get_object_or_404(selectors.tasks_all_active(), slug=slug)
    learner = get_object_or_404(User, pk=learner_id)
    form = QuotaLiftForm(request.POST)
    if not form.is_valid():
        return learner_attempts(request, slug, learner_id, lift_form=form)
    try:
        quota_lift(learner=learner, task=task, granted_by=request.user, **form.cleaned_data)
    except DomainError as error:
        raise Http404(error.message) from error  # someone else's learner is not disclosed
    messages.success(request, f"{learner}'s limits on this task are changed.")
    return redirect("learner-attempts", slug=slug, learner_id=learner_id)


@login_required
def run_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The live panel; answers 286 once the run is finished, which tells htmx to stop polling."""
    run = _visible_run(request, pk)
    return render(
        request, "trainer/_run_status.html", _run_context(request, run), status=286 if run.is_finished else 200
    )


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
