"""Pages of the learner → mentor loop. Thin: parse with a form, call one service, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from evidence import selectors, services
from evidence.downloads import evidence_file_response
from evidence.forms import EvidenceForm, QueueFilterForm, ReviewForm
from evidence.models import Evidence, EvidenceError, Kind, Notification, Status
from evidence.notebooks import NotebookError, highlight_python, notebook_parse, notebook_render
from evidence.standing import standing_by_competency, standings_for_learners
from tracker import selectors as catalogue
from tracker.models import Claim, Competency
from tracker.types import AuthenticatedHttpRequest

MAX_DISPLAY_BYTES = 512 * 1024


def competency_list(request: HttpRequest) -> HttpResponse:
    competencies = list(catalogue.competency_list_published())
    standings = standing_by_competency(user=request.user, competencies=competencies)
    rows = [(c, standings.get(c.pk)) for c in competencies]
    return render(request, "evidence/competency_list.html", {"rows": rows})


def competency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A competency's claims and resources, with the visitor's standing and what they can do per claim."""
    competency = get_object_or_404(catalogue.competency_detail_queryset(), slug=slug)
    standing = standing_by_competency(user=request.user, competencies=[competency]).get(competency.pk)
    source = catalogue.competency_source(competency=competency)
    context = {"competency": competency, "standing": standing, "source": source}
    return render(request, "evidence/competency_detail.html", context)


def _visible_evidence(request: HttpRequest, pk: int) -> Evidence:
    # Someone else's evidence is a 404, not a 403: its existence is not disclosed.
    return get_object_or_404(selectors.evidence_visible_to(request.user), pk=pk)


def _error(request: HttpRequest, error: EvidenceError) -> None:
    messages.error(request, error.message)


@login_required
def evidence_new(request: AuthenticatedHttpRequest, claim_id: int) -> HttpResponse:
    claim = get_object_or_404(Claim.objects.select_related("competency"), pk=claim_id, is_active=True)
    if not claim.takes_form_evidence:
        return redirect("claim-task", claim_id=claim.pk)  # training evidence starts on the claim's task
    form = EvidenceForm(request.POST or None, request.FILES or None, claim=claim)
    if request.method == "POST" and form.is_valid():
        try:
            evidence = services.evidence_create(
                learner=request.user, claim=claim, data=form.to_input(), submit="draft" not in request.POST
            )
        except EvidenceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, "Saved as a draft." if evidence.status == Status.DRAFT else "Submitted for review."
            )
            return redirect(evidence)
    return _render_form(request, form, claim, title="New evidence")


def _render_form(request: HttpRequest, form: EvidenceForm, claim: Claim, **context: Any) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "evidence/evidence_form.html", {"form": form, "claim": claim, **context}, status=status)


@login_required
def evidence_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    evidence = _visible_evidence(request, pk)
    if evidence.learner_id != request.user.pk or evidence.status != Status.DRAFT:
        messages.error(request, "Only your own drafts can be edited.")
        return redirect(evidence)
    initial = {"kind": evidence.kind, "body": evidence.body, "url": evidence.url, "has_file": bool(evidence.file)}
    form = EvidenceForm(
        request.POST or None, request.FILES or None, claim=evidence.claim, fixed_kind=evidence.kind, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.evidence_update_draft(evidence=evidence, learner=request.user, data=form.to_input())
            if "draft" not in request.POST:
                services.evidence_submit(evidence=evidence, learner=request.user)
        except EvidenceError as error:
            form.add_error(None, error.message)
        else:
            return redirect(evidence)
    return _render_form(request, form, evidence.claim, title="Edit draft", evidence=evidence)


@login_required
def evidence_resubmit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    evidence = _visible_evidence(request, pk)
    initial = {"kind": evidence.kind, "body": evidence.body, "url": evidence.url}
    form = EvidenceForm(request.POST or None, request.FILES or None, claim=evidence.claim, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.evidence_resubmit(evidence=evidence, learner=request.user, data=form.to_input())
        except EvidenceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Version {new.version} submitted for review.")
            return redirect(new)
    return _render_form(
        request, form, evidence.claim, title=f"Resubmit (version {evidence.version + 1})", evidence=evidence
    )


def _content_html(evidence: Evidence) -> str:
    """Read-only HTML for a notebook or learner code; escaped/sanitised, never executed."""
    if not evidence.file or evidence.kind not in (Kind.NOTEBOOK, Kind.TRAINING):
        return ""
    try:
        with evidence.file.open("rb") as handle:
            data = handle.read(MAX_DISPLAY_BYTES + 1)
        name = evidence.file_name.lower()
        if name.endswith(".ipynb"):
            return notebook_render(notebook_parse(data))
        if name.endswith(".py") and len(data) <= MAX_DISPLAY_BYTES:
            return highlight_python(data.decode("utf-8", "replace"))
    except (NotebookError, OSError):
        return '<p class="muted">This file can no longer be displayed; download it instead.</p>'
    return ""


@login_required
def evidence_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    evidence = _visible_evidence(request, pk)
    return _render_detail(request, evidence, review_form=None)


def _render_detail(
    request: AuthenticatedHttpRequest, evidence: Evidence, review_form: ReviewForm | None
) -> HttpResponse:
    user = request.user
    can_review = evidence.can_be_reviewed_by(user)
    if can_review and review_form is None:
        review_form = ReviewForm(claim=evidence.claim)
    context = {
        "evidence": evidence,
        "reviews": evidence.reviews.select_related("reviewer"),
        "history": selectors.evidence_history(evidence),
        "is_owner": evidence.learner_id == user.pk,
        "review_form": review_form if can_review else None,
        "notebook_html": mark_safe(_content_html(evidence)),  # noqa: S308 - escaped/sanitised by notebook_render
    }
    status = 400 if review_form is not None and review_form.errors else 200
    return render(request, "evidence/evidence_detail.html", context, status=status)


@login_required
@require_POST
def evidence_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    evidence = _visible_evidence(request, pk)
    actions = {"submit": services.evidence_submit, "withdraw": services.evidence_withdraw}
    if action not in actions:
        raise Http404("Unknown action")
    service = actions[action]
    try:
        service(evidence=evidence, learner=request.user)
        messages.success(request, "Submitted for review." if action == "submit" else "Withdrawn.")
    except EvidenceError as error:
        _error(request, error)
    return redirect(evidence)


@login_required
@require_POST
def review_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    evidence = _visible_evidence(request, pk)
    form = ReviewForm(request.POST, claim=evidence.claim)
    if form.is_valid():
        try:
            services.review_record(
                evidence=evidence,
                reviewer=request.user,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
                rubric=form.rubric(),
            )
        except EvidenceError as error:
            if error.status == 403:
                _error(request, error)
                return redirect(evidence)
            form.add_error(None, error.message)
        else:
            messages.success(request, "Decision recorded; the learner has been notified.")
            return redirect(evidence)
    # The mentor's comment and scores stay in the form, with the reason it was refused.
    return _render_detail(request, evidence, review_form=form)


@login_required
def evidence_file(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    return evidence_file_response(_visible_evidence(request, pk))


@login_required
def my_evidence(request: AuthenticatedHttpRequest) -> HttpResponse:
    evidence = Evidence.objects.filter(learner=request.user).select_related("claim", "competency")
    page = Paginator(evidence.order_by("-updated_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "evidence/my_evidence.html", {"evidence_list": page.object_list, "page": page})


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    competencies: list[Competency] = list(
        Competency.objects.filter(status=Competency.Status.PUBLISHED).prefetch_related(
            Prefetch("claims", queryset=Claim.objects.filter(is_active=True), to_attr="active_claim_list")
        )
    )
    standings = standing_by_competency(user=request.user, competencies=competencies)
    rows = [(c, standings[c.pk], standings[c.pk].next_step(c.active_claim_list)) for c in competencies]  # type: ignore[attr-defined]
    return render(request, "evidence/dashboard.html", {"rows": rows})


@login_required
def review_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    mentor = request.user
    competencies = list(selectors.mentored_competencies(mentor).prefetch_related("claims"))
    if not competencies:
        raise Http404("You do not mentor any competency.")
    form = QueueFilterForm(request.GET or None, competencies=competencies, learners=selectors.learners_of(mentor))
    filters = selectors.QueueFilters(
        **{k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v not in (None, "")}
    )
    page = Paginator(selectors.review_queue(mentor=mentor, filters=filters), 50).get_page(request.GET.get("page"))
    counts = selectors.review_queue_counts(mentor=mentor)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "queue": page.object_list, "counts": counts, "query": query.urlencode()}
    return render(request, "evidence/review_queue.html", context)


@login_required
def mentor_learners(request: AuthenticatedHttpRequest) -> HttpResponse:
    competencies = list(selectors.mentored_competencies(request.user))
    if not competencies:
        raise Http404("You do not mentor any competency.")
    search = request.GET.get("q", "").strip()[:150]
    learners = selectors.learners_of(request.user)
    if search:
        learners = learners.filter(username__icontains=search)
    page = Paginator(learners, 50).get_page(request.GET.get("page"))
    standings = standings_for_learners(learner_ids=[u.pk for u in page.object_list], competencies=competencies)
    rows = [(u, [standings[(u.pk, c.pk)] for c in competencies]) for u in page.object_list]
    query = urlencode({"q": search}) if search else ""
    context = {"competencies": competencies, "rows": rows, "page": page, "search": search, "query": query}
    return render(request, "evidence/mentor_learners.html", context)


@login_required
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("notifications")
    items = Notification.objects.filter(recipient=request.user).select_related("evidence")[:200]
    return render(request, "evidence/notifications.html", {"items": items})


@login_required
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect(notification.get_absolute_url())
