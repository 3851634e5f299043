"""Filing a finished attempt as training evidence: the learner's choice (or, if they asked, automatic on a pass)."""

from __future__ import annotations

import logging

from django.core.files import File
from django.db import transaction

from evidence import services as evidence_services
from evidence.models import Evidence
from tracker.errors import DomainError
from tracker.models import Claim, User
from trainer.engines import facts, label
from trainer.errors import TrainingError
from trainer.models import Filing, TrainingRun

logger = logging.getLogger(__name__)


def _check_filable(run: TrainingRun, claim: Claim, note: str) -> None:
    if not run.is_finished:
        raise TrainingError(f"This attempt is {run.get_status_display().lower()}; file it once it has finished.")
    if not run.can_be_filed:
        raise TrainingError("A cancelled attempt, or one the platform failed to run, cannot be filed as evidence.")
    if claim.pk not in {c.pk for c in run.task.claims()}:
        raise TrainingError(f"This task does not prove claim {claim.order} of {claim.competency}.", status=400)
    if not run.passed and not note.strip():
        raise TrainingError("This attempt did not pass: add a short note saying what you want feedback on.", status=400)


def _backend(run: TrainingRun) -> str | None:
    """The Keras backend measured inside the sandbox (tf.keras runs on TensorFlow)."""
    backend = (run.environment or {}).get("backend")
    return backend if isinstance(backend, str) and backend else None


def _check_companion(run: TrainingRun, companion: TrainingRun | None, claim: Claim, note: str) -> None:
    """A claim about the backend is proven by two scored runs of the same task on different backends."""
    if not run.task.needs_two_engines(claim):
        if companion is not None:
            raise TrainingError(f"Claim {claim.order} is proven by one attempt: leave the second run out.", status=400)
        return
    others = ", ".join(label(e) for e in run.task.allowed_engines() if facts(e).backend != _backend(run)) or "another"
    if companion is None:
        raise TrainingError(
            f"Claim {claim.order} is about the backend: file this attempt together with a scored attempt of yours "
            f"at this task on another backend ({others}), chosen as the second run.",
            status=400,
        )
    if companion.pk == run.pk or companion.task_id != run.task_id:
        raise TrainingError("The second run must be another of your attempts at this same task.", status=400)
    _check_filable(companion, claim, note)
    for which in (run, companion):
        if which.status != TrainingRun.State.SUCCEEDED or _backend(which) is None:
            raise TrainingError(
                f"Attempt #{which.pk} was not scored, so its backend was never measured: file two scored attempts.",
                status=400,
            )
    if _backend(run) == _backend(companion):
        raise TrainingError(
            f"Both attempts ran on {_backend(run)}: the second run must be on another backend ({others}).", status=400
        )


@transaction.atomic
def run_file(
    *,
    run: TrainingRun,
    learner: User,
    claim: Claim,
    note: str = "",
    automatic: bool = False,
    companion: TrainingRun | None = None,
) -> Evidence:
    """File a finished attempt of the learner's as evidence for `claim`; it goes to the mentors' queue. For a
    claim about the backend (TaskSpec.two_engine_claims), `companion` is their attempt on another backend, filed
    with it and shown beside it.

    Raises:
        TrainingError: someone else's run (404), not finished or not filable (409), a claim the task
            does not prove, a failing attempt without a note, or a second run missing, of another task or
            on the same backend (400).
        EvidenceError: the claim already has evidence of theirs awaiting review (409), or takes no training.
    """
    if run.learner_id != learner.pk or (companion is not None and companion.learner_id != learner.pk):
        raise TrainingError("No such run.", status=404)  # someone else's run is not disclosed
    locked = TrainingRun.objects.select_for_update().select_related("task__claim").get(pk=run.pk)
    _check_filable(locked, claim, note)
    second = None if companion is None else TrainingRun.objects.select_related("task").get(pk=companion.pk)
    _check_companion(locked, second, claim, note)
    with locked.code.open("rb") as handle:
        evidence = evidence_services.evidence_create_training(
            learner=learner, claim=claim, code=File(handle), file_name=locked.file_name, note=note
        )
    Filing.objects.create(run=locked, evidence=evidence, automatic=automatic, companion=second)
    return evidence


def run_file_automatically(*, run: TrainingRun) -> Evidence | None:
    """A passing attempt submitted with "file it if it passes": filed for its claim, unless refused.

    A refusal (say, other evidence of theirs for that claim is awaiting review) is kept on the run as a
    notice, for the learner to see; the run itself has succeeded either way.
    """
    claim = run.claim or run.task.claim
    try:
        with transaction.atomic():
            return run_file(run=run, learner=run.learner, claim=claim, automatic=True)
    except DomainError as refusal:
        notice = f"Not filed automatically for claim {claim.order}: {refusal.message}"
        TrainingRun.objects.filter(pk=run.pk).update(notices=[*run.notices, notice])
        logger.info("Run %s: %s", run.pk, notice)
        return None
