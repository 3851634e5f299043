"""Attempts (training runs): submit, execute (in the worker), cancel, reap, prune. Every run state change is here."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, JSONField, Q, QuerySet, Value, When
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from evidence import services as evidence_services
from evidence.notebooks import NotebookError, notebook_code, notebook_parse
from evidence.uploads import safe_filename
from tracker.models import Claim, User
from trainer import selectors
from trainer.engines import Engine, label
from trainer.errors import TrainingError
from trainer.filings import run_file_automatically
from trainer.models import ErrorKind, Filing, TaskSpec, TrainingRun
from trainer.pipeline import Job, LearnerFailure, RunCancelled, run_pipeline
from trainer.queue import next_run_locked
from trainer.quotas import quota_enforce
from trainer.sandbox.config import SandboxUnavailable
from trainer.sandbox.runner import PlatformError

logger = logging.getLogger(__name__)
State = TrainingRun.State


class PlatformFault(Exception):
    """A fault of the platform, retried by the task (never a learner's mistake)."""


# --- submit ---------------------------------------------------------------------------------------


def task_for_claim(claim: Claim, slug: str | None = None) -> TaskSpec:
    """The task a training submission for `claim` runs (see `selectors.claim_task`), or a 400."""
    task = selectors.claim_task(claim, slug)
    if task is None:
        raise TrainingError("This claim has no training task" + (f" named {slug!r}." if slug else "."), status=400)
    return task


# What an uploaded file is, by its name's suffix (lower case): Python code, a notebook, a model, an R script.
SOURCE_KINDS = ("py", "ipynb", "keras", "r")


def _submission_kind(upload: UploadedFile, task: TaskSpec) -> str:
    name = (upload.name or "").lower()
    kind = next((k for k in SOURCE_KINDS if name.endswith(f".{k}")), "")
    if not kind:
        raise TrainingError(f"Submit {task.accepted_files()}.", status=400)
    if kind == "keras" and not task.accepts_models:
        raise TrainingError(f"This task trains your code on the server: submit {task.accepted_files()}.", status=400)
    if kind == "r" and not task.takes_r:
        raise TrainingError(
            f"This task does not take R scripts (its engines are Python Keras): submit {task.accepted_files()}. "
            "Keras from R is proven on the tasks that take the R engine.",
            status=400,
        )
    if kind in ("py", "ipynb") and not task.takes_python:
        raise TrainingError(f"This task is done in R: submit {task.accepted_files()}.", status=400)
    limit, size = settings.TRAINER_SUBMISSION_MAX_MB, upload.size or 0
    if size > limit * 1024 * 1024:
        raise TrainingError(f"The file is {size / 1048576:.1f} MB; the limit is {limit} MB.", status=400)
    return kind


def _read_upload(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _check_submission(kind: str, data: bytes, task: TaskSpec) -> list[str]:
    """Validate what can be validated before training; returns notices for the learner."""
    if kind == "keras":
        if not data.startswith(b"PK\x03\x04"):
            raise TrainingError("This is not a .keras model file (a .keras file is a zip archive).", status=400)
        return []
    notices: list[str] = []
    code = data
    if kind == "ipynb":
        try:
            text, notices = notebook_code(notebook_parse(data))
        except NotebookError as error:
            raise TrainingError(error.message, status=400) from error
        code = text.encode()
    else:
        suffix, language = (".R", "R") if kind == "r" else (".py", "Python")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise TrainingError(f"The {suffix} file is not UTF-8 text.", status=400) from error
        if b"\x00" in data:
            raise TrainingError(f"The {suffix} file contains NUL bytes; it is not {language} source.", status=400)
    _check_code_size(code, task, "The notebook's code cells hold" if kind == "ipynb" else "The file holds")
    return notices


def _check_code_size(code: bytes, task: TaskSpec, holder: str) -> None:
    """The code a run executes is capped per task: the data comes from the platform, so code needs no room
    for it, and on public test data the cap keeps a lookup table of the test set's labels out."""
    if len(code) > task.max_code_kb * 1024:
        raise TrainingError(
            f"{holder} {len(code) / 1024:.1f} KB of code; this task takes at most "
            f"{task.max_code_kb} KB. The training data comes from the platform: the code needs no data of its own.",
            status=400,
        )


def _task_for(learner: User, task: TaskSpec) -> None:
    if task.is_tiny and not learner.is_staff_member:
        # Tiny variants are for tests and health checks: to a learner they do not exist.
        raise TrainingError("No such task.", status=404)
    if not task.is_active:
        raise TrainingError("This task no longer takes attempts.", status=400)


def _claim_for(task: TaskSpec, claim: Claim | None) -> Claim:
    claims = task.claims()
    if claim is None:
        return claims[0]
    if claim.pk not in {c.pk for c in claims}:
        raise TrainingError(f"This task does not prove claim {claim.order} of {claim.competency}.", status=400)
    return claim


def _engine_for(task: TaskSpec, engine: str | None, kind: str = "py") -> str:
    """The engine asked for, if this task takes it, this installation offers it and it runs this kind of file
    (an .R script runs on R, anything else on a Python engine); None: the task's first that runs it."""
    allowed = task.allowed_engines()
    if not allowed:
        raise TrainingError("None of the engines this task takes is installed here; tell an administrator.", status=400)
    fitting = [name for name in allowed if (name == Engine.R) == (kind == "r")]
    if engine is None or engine == "":
        if not fitting:
            raise TrainingError(
                f"This task's engines here do not run this file: submit {task.accepted_files()}.", status=400
            )
        return fitting[0]
    if engine not in allowed:
        offered = ", ".join(f"{name} ({label(name)})" for name in allowed)
        known = "" if engine in Engine.values else f"There is no engine {engine[:40]!r}. "
        raise TrainingError(f"{known}This task trains on {offered}.", status=400)
    if engine not in fitting:
        wanted = "an .R script" if engine == Engine.R else "Python code (.py, .ipynb) or a .keras model"
        raise TrainingError(
            f"The {label(engine)} engine runs {wanted}: submit one, or choose another engine.", status=400
        )
    return engine


def attempt_submit(
    *,
    learner: User,
    task: TaskSpec,
    upload: UploadedFile,
    claim: Claim | None = None,
    file_if_passes: bool = False,
    engine: str | None = None,
) -> TrainingRun:
    """A new attempt, within the learner's quota; the worker is told once it is committed.

    The file is checked before the transaction opens (a notebook's check takes up to about a second,
    and SQLite would hold its write lock meanwhile); the quota is counted inside it.

    Raises:
        TrainingError: the task, the engine or the file is refused (400, or 404 for a task the learner may not see).
        QuotaExceeded: over a limit (429, with when to try again).
    """
    _task_for(learner, task)
    claim = _claim_for(task, claim)
    kind = _submission_kind(upload, task)
    engine = _engine_for(task, engine, kind)
    data = _read_upload(upload)
    notices = _check_submission(kind, data, task)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=learner.pk).first()  # one submission of theirs at a time
        quota_enforce(learner, task, len(data))
        run = TrainingRun(
            learner=learner, task=task, dataset=task.dataset, claim=claim, file_if_passes=file_if_passes,
            engine=engine, source_kind=kind, code_sha256=hashlib.sha256(data).hexdigest(), notices=notices,
            epochs=task.max_epochs if kind != "keras" else 0,
            file_name=safe_filename(upload.name or f"submission.{kind}"), file_size=len(data),
        )  # fmt: skip
        run.code.save(run.file_name, ContentFile(data), save=False)
        run.save()
        transaction.on_commit(lambda: run_enqueue(run_id=run.pk))
    return run


def run_enqueue(*, run_id: int) -> None:
    """Wake a worker. The message names the run, but the worker starts whichever run is fairly next.

    The run is committed before this is called, so a broker that cannot be reached loses nothing: the
    submission still succeeds, and the reaper sends the message again after TRAINER_REQUEUE_SECONDS.
    """
    from trainer.tasks import train_run
    from trainer.workers import queue_name

    TrainingRun.objects.filter(pk=run_id).update(enqueued_at=timezone.now())
    accelerator = TrainingRun.objects.filter(pk=run_id).values_list("task__needs_accelerator", flat=True).first()
    queue = queue_name(needs_accelerator=bool(accelerator))
    try:
        train_run.apply_async(args=(run_id,), kwargs={"queue": queue}, queue=queue)
    except BrokerUnreachable as error:
        logger.warning("Run %s: the broker is unreachable, the reaper will send it again: %s", run_id, error)


# --- execute (worker) ----------------------------------------------------------------------------


def run_next(*, worker: str, accelerator: bool = False, wakes: int = 1) -> int | None:
    """Start the run that is fairly next (trainer.queue) among those of its kind (`accelerator`: the runs of
    tasks that need one), run the pipeline, record the outcome. A message that wakes several runs (the
    reaper's) is passed on for the rest as soon as this one has started, so free workers take them meanwhile.

    Returns the id of the run executed, or None when nothing was queued (a duplicate or late message).
    """
    run = _dispatch(worker, accelerator)
    if run is None:
        return None
    if wakes > 1:
        runs_wake(accelerator=accelerator, wakes=wakes - 1)
    try:
        _run(run)
    finally:
        pool_warm()  # refill while this worker is idle, not while the next job trains
    return run.pk


def _run(run: TrainingRun) -> None:
    artifacts = Path(settings.MEDIA_ROOT) / "runs" / str(run.pk)
    shutil.rmtree(artifacts, ignore_errors=True)  # a retried attempt starts clean
    artifacts.mkdir(parents=True)
    TrainingRun.objects.filter(pk=run.pk).update(artifacts_dir=f"runs/{run.pk}")
    with tempfile.TemporaryDirectory(prefix="skillproof-src-") as tmp:
        job = Job(
            task=run.task,
            engine=run.engine,
            source_kind={"keras": "keras", "r": "r"}.get(run.source_kind, "py"),
            source=_prepare_source(run, Path(tmp)),
            artifacts=artifacts,
            on_progress=lambda rows, log: _on_progress(run, rows, log),
            on_stage=lambda stage: _on_stage(run, stage),
            on_cold=lambda stages: _heartbeat(run, {"timings": {"cold_start": stages}}),
        )
        _execute(run, job)


def _dispatch(worker: str, accelerator: bool = False) -> TrainingRun | None:
    """Take the next run in the fair order and mark it running, in one short transaction.

    Runs interrupted too often are failed on the way (and the next one is taken), so a run that
    keeps killing workers cannot block the queue.
    """
    while True:
        with transaction.atomic():
            run = next_run_locked(accelerator=accelerator)
            if run is None:
                return None
            if run.attempt >= settings.TRAINER_MAX_ATTEMPTS:
                _finish_failed(
                    run, ErrorKind.PLATFORM_ERROR, "The run was interrupted too many times; please submit again."
                )
                continue
            now = timezone.now()
            first = TrainingRun.Stage.TRAIN if run.source_kind != "keras" else TrainingRun.Stage.PREDICT
            run.status, run.stage, run.worker = State.RUNNING, first, worker
            run.attempt += 1
            run.started_at = run.heartbeat_at = now
            run.history, run.epoch = [], 0
            run.save()
            return run


def _prepare_source(run: TrainingRun, folder: Path) -> Path:
    with run.code.open("rb") as handle:
        data = handle.read()
    if run.source_kind == "ipynb":
        code, _notices = notebook_code(notebook_parse(data))
        data = code.encode()
    path = folder / {"keras": "model.keras", "r": "submission.R"}.get(run.source_kind, "submission.py")
    path.write_bytes(data)
    return path


def _held(run: TrainingRun) -> QuerySet[TrainingRun]:
    """The run, if it is still at the attempt `run` knows of and not finished.

    Every write of a worker's outcome goes through this, so an attempt the reaper gave up on (its worker
    was silent too long) and queued again can never overwrite the attempt that replaced it.
    """
    return TrainingRun.objects.filter(pk=run.pk, attempt=run.attempt, status__in=TrainingRun.ACTIVE)


def _on_stage(run: TrainingRun, stage: str) -> None:
    _heartbeat(run, {"stage": stage})


def _on_progress(run: TrainingRun, rows: list[dict[str, Any]], log: str) -> bool:
    """Heartbeat, live progress and log tail; True when the run must stop (cancelled, or no longer this
    attempt's)."""
    updates: dict[str, Any] = {"log_tail": log}
    if rows:
        last = rows[-1]
        updates |= {"history": rows, "epoch": int(last.get("epoch", len(rows)))}
    return _heartbeat(run, updates)


def _heartbeat(run: TrainingRun, updates: dict[str, Any]) -> bool:
    # The heartbeat feeds the live page and tells the reaper this worker is alive: a database that is
    # briefly unreachable (restarted, failed over) must not throw away the training in progress. The run
    # goes on; if the database stays away past TRAINER_HEARTBEAT_STALE_SECONDS the reaper queues it again,
    # and this attempt stops at its next heartbeat, when it finds the run is no longer its own.
    try:
        if not _held(run).filter(status=State.RUNNING).update(heartbeat_at=timezone.now(), **updates):
            logger.warning("Run %s: attempt %s was taken over or finished elsewhere; stopping it", run.pk, run.attempt)
            return True
        return _held(run).filter(cancel_requested=True).exists()
    except (OperationalError, InterfaceError) as error:
        logger.warning("Run %s: heartbeat not recorded, training goes on: %s", run.pk, error)
        connection.close()  # the next heartbeat opens a fresh connection
        return False


def _execute(run: TrainingRun, job: Job) -> None:
    try:
        result = run_pipeline(job)
    except RunCancelled:
        _finish_cancelled(run)
    except LearnerFailure as failure:
        _finish_failed(run, failure.kind, failure.message, job=job)
    except (PlatformError, SandboxUnavailable, OSError) as error:
        _release_for_retry(run, job, error)
        raise PlatformFault(str(error)) from error
    except Exception as error:
        # A bug of ours must not leave the run "running": it is retried, then failed, like a fault.
        logger.exception("Run %s: unexpected error", run.pk)
        _release_for_retry(run, job, error)
        raise PlatformFault(f"{type(error).__name__}: {error}") from error
    else:
        _finish_scored(run, job, result)


def _release_for_retry(run: TrainingRun, job: Job, error: Exception) -> None:
    logger.warning("Run %s: platform fault on attempt %s: %s", run.pk, run.attempt, error)
    if isinstance(error, SandboxUnavailable) or run.attempt >= settings.TRAINER_MAX_ATTEMPTS:
        _finish_failed(run, ErrorKind.PLATFORM_ERROR, f"The training platform failed: {error}", job=job)
        return
    _held(run).update(
        status=State.QUEUED,
        stage=TrainingRun.Stage.WAITING,
        notices=[*run.notices, _requeued_notice(run, "The training platform failed during this attempt")],
    )


def _requeued_notice(run: TrainingRun, what: str) -> str:
    """What the learner reads on the run page and in the API when their attempt is started again."""
    return f"{what}; it was queued again and starts over (platform retry {run.attempt})."


def _finished_fields(run: TrainingRun, job: Job | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"finished_at": timezone.now(), "stage": TrainingRun.Stage.DONE}
    if job is None:
        return fields
    timings: dict[str, Any] = dict(job.timings)
    if job.peak_memory_mb is not None:
        timings["peak_memory_mb"] = job.peak_memory_mb
    if job.cold_stages:
        timings["cold_start"] = list(job.cold_stages)
    # What the sandbox said about the model was checked by the pipeline (trainer.sandbox.outputs): only
    # those values are stored, never the files it wrote.
    return fields | {
        "timings": timings, "model_summary": job.model_summary, "environment": job.environment,
        "param_count": job.param_count, "log_tail": job.log_tail, "artifact_bytes": _artifact_bytes(job.artifacts),
    }  # fmt: skip


@transaction.atomic
def _finish_scored(run: TrainingRun, job: Job, result: dict[str, Any]) -> None:
    fields = _finished_fields(run, job) | {
        "status": State.SUCCEEDED, "metrics": result["metrics"], "passed": result["passed"],
        "export_check": result.get("export_check", {}),
    }  # fmt: skip
    if not _held(run).update(**fields):
        logger.warning(
            "Run %s: attempt %s finished after it was taken over; its result is dropped", run.pk, run.attempt
        )
        return
    _legacy_evidence_finished(run, scored=True)
    if result["passed"] and run.file_if_passes:
        run_file_automatically(run=TrainingRun.objects.select_related("task", "learner").get(pk=run.pk))


@transaction.atomic
def _finish_failed(run: TrainingRun, kind: str, message: str, job: Job | None = None) -> None:
    fields = _finished_fields(run, job) | {"status": State.FAILED, "error_kind": kind, "error_message": message}
    if _held(run).update(**fields):
        _legacy_evidence_finished(run, scored=False)


@transaction.atomic
def _finish_cancelled(run: TrainingRun) -> None:
    fields = {"status": State.CANCELLED, "finished_at": timezone.now(), "stage": TrainingRun.Stage.DONE}
    if not _held(run).update(**fields):
        return
    for filing in run.filings.select_related("evidence"):
        evidence_services.evidence_training_cancelled(evidence=filing.evidence)


def _legacy_evidence_finished(run: TrainingRun, *, scored: bool) -> None:
    # Evidence filed before runs became attempts was created with its run, and waits for it in
    # "training"; evidence filed from a finished attempt is submitted already and is left as it is.
    for filing in run.filings.select_related("evidence"):
        evidence_services.evidence_training_finished(evidence=filing.evidence, scored=scored)


def _artifact_bytes(artifacts: Path) -> int:
    return sum(p.stat().st_size for p in artifacts.rglob("*") if p.is_file() and not p.is_symlink())


# --- cancel, reap, prune ------------------------------------------------------------------------


@transaction.atomic
def run_cancel(*, run: TrainingRun, user: User) -> TrainingRun:
    locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if locked.learner_id != user.pk and not user.is_admin_role:
        raise TrainingError("Only the learner who submitted this run can cancel it.", status=403)
    if locked.is_finished:
        raise TrainingError(f"This run is already {locked.get_status_display().lower()}.")
    if locked.status == State.QUEUED:
        _finish_cancelled(locked)
    else:
        TrainingRun.objects.filter(pk=locked.pk).update(cancel_requested=True)
    locked.refresh_from_db()
    return locked


def attempts_prune(*, now: datetime | None = None) -> int:
    """Beat task: delete the model and pictures of attempts never filed, once older than the retention.

    The code is kept (it is small, and it is the record); the run page says what was deleted and when.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TRAINER_ATTEMPT_RETENTION_DAYS)
    old = TrainingRun.objects.filter(finished_at__lt=cutoff, artifacts_pruned_at=None, filings=None)
    pruned = 0
    for run in old.exclude(artifacts_dir="").only("pk", "artifacts_dir"):
        shutil.rmtree(Path(settings.MEDIA_ROOT) / run.artifacts_dir, ignore_errors=True)
        pruned += TrainingRun.objects.filter(pk=run.pk, artifacts_pruned_at=None, filings=None).update(
            artifacts_pruned_at=now, artifact_bytes=0
        )
    return pruned


def runs_reap() -> dict[str, int]:
    """Beat task: runs whose worker went silent are queued again (or failed after the last delivery);
    queued runs whose message may have been lost (broker restarted) are sent again.

    The same few queries and one message per queue whatever the number of runs: the message carries how many
    runs it wakes for, and each worker that takes it passes the rest on (run_next). Duplicates are harmless:
    each wake starts at most one queued run, and a run is started once."""
    now = timezone.now()
    failed = _reap_silent(now)
    sent_before = now - timedelta(seconds=settings.TRAINER_REQUEUE_SECONDS)
    unsent = Q(enqueued_at__lt=sent_before) | Q(enqueued_at__isnull=True)
    lost = TrainingRun.objects.filter(unsent, status=State.QUEUED, cancel_requested=False)
    batch = dict(lost.values_list("pk", "task__needs_accelerator"))
    for accelerator in sorted(set(batch.values())):
        ids = [pk for pk, needs in batch.items() if needs == accelerator]
        if runs_wake(accelerator=accelerator, wakes=len(ids)):
            TrainingRun.objects.filter(pk__in=ids).update(enqueued_at=now)
    return {"requeued": len(batch), "failed": failed}


def _reap_silent(now: datetime) -> int:
    """Runs whose worker has been silent past TRAINER_HEARTBEAT_STALE_SECONDS go back to the queue, unsent, so
    that the reaper's next step sends their message; runs out of deliveries fail. Returns how many failed."""
    stale = now - timedelta(seconds=settings.TRAINER_HEARTBEAT_STALE_SECONDS)
    silent = TrainingRun.objects.filter(status=State.RUNNING, heartbeat_at__lt=stale)
    runs = list(silent.only("pk", "attempt", "notices", "status", "worker", "learner_id", "task_id"))
    spent = [run for run in runs if run.attempt >= settings.TRAINER_MAX_ATTEMPTS]
    if spent:
        message = "The worker running this job stopped responding; please submit again."
        failed = silent.filter(pk__in=[run.pk for run in spent])
        failed_ids = list(failed.values_list("pk", flat=True))
        failed.update(status=State.FAILED, error_kind=ErrorKind.WORKER_LOST, error_message=message,
                      **_finished_fields(spent[0], None))  # fmt: skip
        for filing in Filing.objects.filter(run_id__in=failed_ids).select_related("evidence"):
            evidence_services.evidence_training_finished(evidence=filing.evidence, scored=False)
    what = "The worker training this attempt stopped responding"
    notices = [When(pk=run.pk, then=Value([*run.notices, _requeued_notice(run, what)], output_field=JSONField()))
               for run in runs if run not in spent]  # fmt: skip
    if notices:  # one statement, fenced like the worker's writes: a heartbeat that came meanwhile keeps its run
        silent.filter(pk__in=[run.pk for run in runs]).exclude(pk__in=[run.pk for run in spent]).update(
            status=State.QUEUED, stage=TrainingRun.Stage.WAITING, enqueued_at=None,
            notices=Case(*notices, output_field=JSONField()),
        )  # fmt: skip
    return len(spent)


def runs_wake(*, accelerator: bool, wakes: int) -> bool:
    """One message that wakes `wakes` runs of a queue's kind in turn; False when the broker cannot be reached
    (the reaper tries again at its next round)."""
    from trainer.tasks import train_run
    from trainer.workers import queue_name

    queue = queue_name(needs_accelerator=accelerator)
    try:
        train_run.apply_async(kwargs={"queue": queue, "wakes": wakes}, queue=queue)
    except BrokerUnreachable as error:
        logger.warning("The broker is unreachable; %s queued runs wait for the reaper's next round: %s", wakes, error)
        return False
    return True


def pool_warm() -> None:
    """Fill this process's warm pool; a sandbox that cannot start is reported by /healthz, not here."""
    from trainer.sandbox.pool import get_pool

    try:
        get_pool().fill()
    except (SandboxUnavailable, PlatformError) as error:
        logger.warning("Training sandboxes unavailable: %s", error)


def pool_close() -> None:
    from trainer.sandbox.pool import close_pool

    close_pool()


def tasks_sync() -> list[str]:
    """Create or update the shipped task specs whose dataset is built; returns what was skipped, and why."""
    from trainer.catalogue import TASKS
    from trainer.models import Dataset

    skipped = []
    for task in TASKS:
        dataset = Dataset.objects.filter(slug=task.dataset).order_by("-built_at").first()
        claim = Claim.objects.filter(competency__slug=task.competency, order=task.claim_order).first()
        if dataset is None or claim is None:
            skipped.append(
                f"{task.slug}: {'dataset ' + task.dataset + ' is not built' if dataset is None else 'no claim'}"
            )
            continue
        spec, _ = TaskSpec.objects.update_or_create(
            slug=task.slug,
            defaults={
                "title": task.title, "claim": claim, "dataset": dataset, "brief": task.brief(dataset.stats),
                "summary": task.what_it_proves, "problem": task.problem, "metric": task.metric,
                "threshold": task.threshold, "criteria": list(task.criteria), "spec": task.spec,
                "max_epochs": task.max_epochs, "wall_seconds": task.wall_seconds, "memory_mb": task.memory_mb,
                "max_params": task.max_params, "max_code_kb": task.max_code_kb, "is_tiny": task.tiny,
                # Never on public test data, whatever the definition says (TaskSpec.clean holds admins to it).
                "allow_evaluate_only": task.allow_evaluate_only and not dataset.test_labels_public,
                "baseline": task.baseline, "engines": list(task.engines),
            },
        )  # fmt: skip
        spec.also_claims.set(
            Claim.objects.filter(competency=claim.competency, order__in=task.also_claim_orders).exclude(pk=claim.pk)
        )
        spec.two_engine_claims.set(
            Claim.objects.filter(competency=claim.competency, order__in=task.two_engine_claim_orders)
        )
    return skipped
