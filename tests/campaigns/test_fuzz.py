"""Fuzz campaign: schemathesis sends generated requests to every operation of `/api/schema/`, once with a
learner's API token and once with a mentor's, to gunicorn and a Celery worker on this run's database and
broker. Valid and invalid input alike must never get a 5xx, a status the operation does not document, or a
body that breaks the documented schema. The figures are printed (`-s`, or in the report on failure).

Bounded for CI: a fixed number of examples per operation and generation mode, derandomized (the same requests
on every run), no shrinking; about two minutes on two cores, the servers' start included.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credentials.models import IssuedCredential
from evidence.models import Evidence
from tests.conftest import make_competency, make_user
from tests.credentials.helpers import approve_every_claim
from tests.evidence.helpers import make_evidence, written_claim
from tests.trainer.conftest import Worker, _worker_env, data_dir, submit, tiny_task  # noqa: F401 - fixtures
from tracker.models import Competency, User
from tracker.services import mentor_assign
from tracker.tokens import api_token_create
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REPO = Path(settings.BASE_DIR)

# Examples per operation and generation mode (valid input, invalid input), and for the pass that aims at the
# objects the fixture made: enough to reach every parameter, few enough for two cores.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))  # a longer campaign by hand: FUZZ_EXAMPLES=500
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# The attempts the campaign submits: the worker runs them (in the sandbox where there is one) and they fail fast.
FAILING_MODEL = b"def build_model(spec):\n    raise ValueError('a fuzz campaign attempt')\n"
# Nothing is excluded: no operation in the API revokes tokens, logs out or changes a password (those are pages
# under /accounts/), so the campaign's own credentials live through every request it sends.


@dataclass
class Campaign:
    """What one persona's run sent and what the checks found."""

    role: str
    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # one per operation, check and status
    unsatisfiable: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def record(self, operation: str, response: schemathesis.Response, group: FailureGroup | None) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        for failure in group.exceptions if group else ():
            key = f"{operation} -> {response.status_code}: {failure.title}"
            sent = f"{response.request.method} {response.request.url}"
            self.failures.setdefault(key, f"{key}\n{sent}\n{_describe(failure)}")

    def report(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"fuzz campaign as the {self.role}: {self.operations} operations fuzzed, {self.requests} requests sent, "
            f"{self.server_errors} 5xx, {len(self.failures)} distinct failures (statuses {statuses}); "
            f"no invalid input to make for {len(self.unsatisfiable)}"
        )


def _describe(failure: Failure) -> str:
    return f"{failure.title}\n{failure.message}"[:1500]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def signing_key(settings: Any, tmp_path: Path) -> Path:
    """The issuer's key in a file of the campaign's own, for this process and the server alike."""
    from credentials.keys import keyfile_create

    settings.CREDENTIALS_SIGNING_KEY = ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    keyfile_create(settings.CREDENTIALS_KEY_FILE)
    return Path(settings.CREDENTIALS_KEY_FILE)


@pytest.fixture
def server(tiny_task: TaskSpec, data_dir: Path, tmp_path: Path, signing_key: Path) -> Iterator[str]:  # noqa: F811
    """gunicorn (two threads) and a Celery worker on the test database and broker; the API's base URL."""
    port = _free_port()
    env = _worker_env(
        data_dir, {"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "CREDENTIALS_KEY_FILE": str(signing_key)}
    )
    log_path = tmp_path / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "tracker.project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--threads", "2", "--timeout", "60",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )  # fmt: skip
    worker = Worker(data_dir, tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", process, log_path)
        yield base
    finally:
        worker.stop()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        tail = log_path.read_text(errors="replace")
        if "Traceback" in tail:
            print(tail[-6000:])


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - a local URL
                return
        except OSError:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "gunicorn never answered"
            time.sleep(0.3)


@dataclass(frozen=True)
class World:
    learner: User
    mentor: User
    evidence: Evidence
    run: TrainingRun
    task: TaskSpec
    competency: Competency
    free_claim: int  # a claim neither persona has open evidence for
    credential: str  # the learner's credential for a small competency they are proficient in


@pytest.fixture
def world(keras: Competency, tiny_task: TaskSpec, signing_key: Path) -> World:  # noqa: F811 - the fixture
    """A learner with submitted and draft evidence and a finished attempt; a mentor of Keras, who reviews it."""
    learner = make_user("fuzz-learner", "learner")
    mentor = make_user("fuzz-mentor")
    mentor_assign(mentor=mentor, competencies=[keras])
    evidence = make_evidence(learner, written_claim(keras))
    draft, free = [c for c in keras.claims.order_by("order")[1:] if {"written", "link"} <= set(c.evidence_kinds)][:2]
    make_evidence(learner, draft, submit=False)
    # Finished before the worker starts: its message is then found finished and skipped.
    run = submit(learner, tiny_task, FAILING_MODEL)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.State.FAILED, stage=TrainingRun.Stage.DONE)
    # A credential: every claim of a two-claim competency approved (the key is the run's, in VAR_DIR).
    widgets = make_competency("Widgets", claims=2)
    mentor_assign(mentor=mentor, competencies=[widgets])
    approve_every_claim(learner, widgets, mentor)
    credential = IssuedCredential.objects.get(learner=learner, competency=widgets)
    return World(learner, mentor, evidence, run, tiny_task, keras, free.pk, str(credential.pk))


def known_objects(path: str, world: World) -> dict[str, Any]:
    """Path parameters that name the world's objects, so that requests get past the 404."""
    if path.startswith("/api/evidence/"):
        return {"id": world.evidence.pk}
    if path.startswith("/api/runs/"):
        return {"id": world.run.pk}
    if path.startswith("/api/tasks/"):
        return {"slug": world.task.slug, "name": "train.npz"}
    if path.startswith("/api/credentials/"):
        return {"id": world.credential}
    return {"slug": world.competency.slug}


def fuzz(base: str, role: str, secret: str, world: World) -> Campaign:
    schema = schemathesis.openapi.from_url(f"{base}/api/schema/")
    campaign = Campaign(role)
    headers = {"Authorization": f"Token {secret}"}
    # First, so that the worker trains them while the rest of the API is fuzzed around them.
    _submit_attempts(schema["/api/tasks/{slug}/runs/"]["POST"], headers, campaign, world)
    for result in schema.get_all_operations():
        operation = result.ok()
        campaign.operations += 1
        for strategy in strategies_for(operation, world):
            _send_all(strategy, operation.label, headers, campaign)
    return campaign


def strategies_for(operation: schemathesis.APIOperation, world: World) -> list[st.SearchStrategy[Any]]:
    """Valid and invalid input; then valid input aimed at the world's objects; then a body that is accepted."""
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    known = known_objects(operation.path, world)
    path = {parameter.name: known[parameter.name] for parameter in operation.path_parameters}
    if path:
        strategies.append(operation.as_strategy(path_parameters=path))
    if operation.label == "POST /api/evidence/":
        link = {"claim": world.free_claim, "kind": "link", "url": "https://example.com/my-notes"}
        strategies.append(operation.as_strategy(body=link, media_type="application/json"))
    if operation.label == "POST /api/evidence/{id}/reviews/":
        review = {"decision": "request_changes", "comment": "Say why Keras, not only what it is."}
        strategies.append(operation.as_strategy(path_parameters=path, body=review, media_type="application/json"))
    return strategies


def _submit_attempts(
    operation: schemathesis.APIOperation, headers: dict[str, str], campaign: Campaign, world: World
) -> None:
    """Attempts the worker takes: generated files are never Python, and the name `.py` is what makes one."""
    case = operation.schema.make_case(operation=operation, path_parameters={"slug": world.task.slug})
    # The quota allows TRAINER_MAX_ACTIVE at once: two queued, then a 429 with Retry-After.
    for _ in range(3):
        response = case.call(headers=headers, files={"file": ("model.py", FAILING_MODEL)}, timeout=30)
        _check(case, response, operation.label, headers, campaign)


def _send_all(strategy: st.SearchStrategy[Any], label: str, headers: dict[str, str], campaign: Campaign) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def send(case: schemathesis.Case) -> None:
        _check(case, case.call(headers=headers, timeout=30), label, headers, campaign)

    try:
        send()
    except Unsatisfiable:
        # Invalid input for an operation that takes nothing but an unconstrained string in its path: none exists.
        campaign.unsatisfiable.append(label)


def _check(
    case: schemathesis.Case, response: schemathesis.Response, label: str, headers: dict[str, str], campaign: Campaign
) -> None:
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        campaign.record(label, response, group)
    else:
        campaign.record(label, response, None)


@pytest.mark.parametrize("role", ["learner", "mentor"])
def test_fuzzing_every_operation_finds_no_server_error_and_no_schema_violation(
    server: str, world: World, role: str
) -> None:
    user = world.learner if role == "learner" else world.mentor
    _, secret = api_token_create(user=user, name="fuzz campaign")
    started = time.monotonic()
    campaign = fuzz(server, role, secret, world)
    print(f"\n{campaign.report()} in {time.monotonic() - started:.0f} s")
    assert campaign.operations >= 20  # the whole API, not a schema that failed to load
    assert campaign.server_errors == 0 and not campaign.failures, "\n\n".join(
        [campaign.report(), *campaign.failures.values()]
    )
