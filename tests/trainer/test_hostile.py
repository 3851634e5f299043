"""Hostile submissions against the real sandbox: every attack is contained, explained, and survived.

Each case submits learner code (tests/trainer/hostile/*.py) that attacks the platform, and checks three
things: CONTAINMENT (the secret, label, file, process or network was not reached: checked from the host,
never on the hostile code's word alone), a CLEAR ERROR on the run (the kind and a message a learner can
act on), and that the SAME worker then trains the good reference submission normally.

Snooping cases make the hostile code raise an exception that reports what it could and could not do,
so the run fails with learner_error and the report can be read back (from the log, where the prelude
prints it whole, or the error message). Processes a case starts carry a marker (in their arguments, or
as the harness's own process name), so they can be told apart from the warm pool's idle sandboxes and
from other test sessions on the same machine.

One worker serves the whole module: starting one (and warming its sandboxes) costs more than most cases.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings

from tests.conftest import make_user
from tests.trainer.conftest import FINISHED, REFERENCE, Worker, submit, wait_for_run
from tracker.models import User
from trainer.datasets.registry import dataset_files
from trainer.models import Dataset, TaskSpec, TrainingRun
from trainer.sandbox.cgroups import CGROUP_ROOT, Cgroup
from trainer.sandbox.config import sandbox_config

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOSTILE_DIR = Path(__file__).resolve().parent / "hostile"
REPO = Path(settings.BASE_DIR)
MAX_LOG_CHARS = 70_000
# Put in front of every hostile source: it names the harness process after the case's marker (so a
# surviving harness, or a child forked from it, is found) and defines how the code reports.
PRELUDE = """\
# --- prelude added by tests/trainer/test_hostile.py ---
import json as _json

MARKER = "{marker}"
try:
    with open("/proc/self/comm", "w") as _comm:
        _comm.write(MARKER)
except OSError:
    pass


def hostile_report(report):
    text = _json.dumps(report, separators=(",", ":"), default=str)
    print("HOSTILE REPORT " + text, flush=True)
    raise RuntimeError("HOSTILE REPORT " + text)


# --- end of prelude ---
"""
KERAS_SCRIPT = """
import sys

import keras

folder = sys.argv[1]


def save(name, *layers):
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(), *layers])
    model.save(f"{folder}/{name}")


save("seven_outputs.keras", keras.layers.Dense(7, activation="softmax"))
save("lambda_layer.keras", keras.layers.Lambda(lambda x: x), keras.layers.Dense(10, activation="softmax"))


@keras.saving.register_keras_serializable(package="mine")
class Twice(keras.layers.Layer):
    def call(self, x):
        return x * 2


save("custom_layer.keras", Twice(), keras.layers.Dense(10, activation="softmax"))
"""


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """Two .keras uploads, built by the sandbox runtime's Python: TensorFlow never enters this process.
    Started early (it takes a while) and waited for by `keras_files`."""
    folder = tmp_path_factory.mktemp("keras-uploads")
    home = folder / "home"
    home.mkdir()
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(home), "KERAS_HOME": str(home / "keras"), "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "", "MPLCONFIGDIR": str(home),
    }  # fmt: skip
    process = subprocess.Popen(
        [str(sandbox_config().python), "-I", "-c", KERAS_SCRIPT, str(folder)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process, folder
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def keras_files(keras_build: tuple[subprocess.Popen[bytes], Path]) -> dict[str, bytes]:
    process, folder = keras_build
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output.decode(errors="replace")[-3000:]
    return {path.name: path.read_bytes() for path in folder.glob("*.keras")}


@pytest.fixture(scope="module")
def module_worker(
    sandbox: None,
    data_dir: Path,
    django_db_setup: None,
    keras_build: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    """One real worker for the module; it only needs the test database to exist, not its rows."""
    started = Worker(
        data_dir,
        tmp_path_factory.mktemp("hostile-worker") / "worker.log",
        TRAINER_HEARTBEAT_STALE_SECONDS="60",
        TRAINER_REAP_INTERVAL_SECONDS="5",
    )
    yield started
    started.stop()


@pytest.fixture
def worker(module_worker: Worker, tiny_task: TaskSpec) -> Worker:
    assert module_worker.process.poll() is None, module_worker.log()[-3000:]
    return module_worker


@pytest.fixture
def models_task(tiny_task: TaskSpec) -> TaskSpec:
    """The tiny task as a task that takes trained models. Fashion-MNIST's test labels are public, so its tasks
    never do; tasks on secret data may (shapes-segmentation ships so), and every hostile model must fail there."""
    Dataset.objects.filter(pk=tiny_task.dataset_id).update(test_labels_public=False)
    TaskSpec.objects.filter(pk=tiny_task.pk).update(allow_evaluate_only=True)
    return TaskSpec.objects.get(pk=tiny_task.pk)


@pytest.fixture
def root_secret() -> Iterator[tuple[Path, str]]:
    """A root-owned 0600 file with a random secret, under /usr/share: visible (read-only) in the sandbox."""
    value = f"root-only-secret-{secrets.token_hex(16)}"
    path = Path("/usr/share") / f"skillproof-hostile-{secrets.token_hex(6)}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    assert os.geteuid() == 0 and stat.S_IMODE(path.stat().st_mode) == 0o600
    yield path, value
    path.unlink(missing_ok=True)


# --- helpers --------------------------------------------------------------------------------------------


def new_marker() -> str:
    return "hx" + secrets.token_hex(6)  # 14 characters: fits a process name (15)


def hostile(name: str, marker: str, **values: object) -> bytes:
    body = (HOSTILE_DIR / f"{name}.py").read_text()
    for key, value in values.items():
        body = body.replace(f"@{key}@", str(value))
    assert not re.findall(r"@[A-Z_]+@", body), f"unfilled placeholders in {name}.py"
    return (PRELUDE.format(marker=marker) + body).encode()


_learners = iter(range(1, 10_000))


def learner() -> User:
    """A fresh learner per submission: one learner may not have two open pieces of evidence for a claim."""
    return make_user(f"hostile-learner-{next(_learners)}", "learner")


def marked_processes(marker: str) -> list[str]:
    """Every process on the host whose command line or name holds the marker, with its owner."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            comm = (entry / "comm").read_text().strip()
            owner = entry.stat().st_uid
        except OSError:
            continue  # gone meanwhile
        if marker in cmdline or marker in comm:
            found.append(f"pid {entry.name} uid {owner}: {comm}: {cmdline[:200]}")
    return found


def watch(run: TrainingRun, marker: str, seconds: float = 180) -> tuple[TrainingRun, int]:
    """Wait for the run to finish, counting (at most) how many marked processes existed meanwhile."""
    deadline = time.monotonic() + seconds
    seen = 0
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in FINISHED:
            return run, seen
        seen = max(seen, len(marked_processes(marker)))
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status}/{run.stage} after {seconds}s: {run.log_tail[-2000:]}")


def sandbox_user_processes() -> list[str]:
    out = subprocess.run(
        ["pgrep", "-a", "-u", settings.TRAINER_SANDBOX_USER], capture_output=True, text=True, check=False
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


def assert_no_marked_processes(marker: str) -> None:
    """Nothing the case started is left: not as the sandbox user, not as anyone."""
    deadline = time.monotonic() + 3  # the run is marked finished after its sandbox was killed; allow reaping
    while (left := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes outlived the run: {left}"
    assert not [line for line in sandbox_user_processes() if marker in line]
    pgrep = subprocess.run(["pgrep", "-a", "-f", marker], capture_output=True, text=True, check=False)
    assert pgrep.stdout.strip() == "", pgrep.stdout


def artifact_files(run: TrainingRun) -> dict[str, Path]:
    if not run.artifacts_dir:
        return {}
    root = Path(settings.MEDIA_ROOT) / run.artifacts_dir
    return {str(path.relative_to(root)): path for path in sorted(root.rglob("*")) if not path.is_dir()}


def assert_not_leaked(run: TrainingRun, *needles: str) -> None:
    """None of the needles appears in what the platform shows or keeps of the run."""
    shown = {
        "log_tail": run.log_tail,
        "error_message": run.error_message,
        "model_summary": run.model_summary,
        "environment": json.dumps(run.environment),
        "history": json.dumps(run.history),
        "notices": json.dumps(run.notices),
    }
    for needle in needles:
        assert needle
        for field, text in shown.items():
            assert needle not in text, f"{needle!r} leaked into run.{field}"
        for name, path in artifact_files(run).items():
            assert not path.is_symlink(), f"artifact {name} is a link"
            assert needle.encode() not in path.read_bytes(), f"{needle!r} leaked into artifact {name}"


def assert_failed(run: TrainingRun, *kinds: str) -> None:
    assert run.status == "failed", (run.status, run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.error_kind in kinds, (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.error_message.strip(), "a failed run must say why"


def hostile_report(run: TrainingRun) -> dict[str, Any]:
    """What the hostile code said it could do: from the log (printed whole), else the error message."""
    for text in (run.log_tail, run.error_message):
        for match in reversed(list(re.finditer(r"HOSTILE REPORT (\{.*\})", text))):
            try:
                report: dict[str, Any] = json.loads(match.group(1))
            except ValueError:
                continue
            return report
    raise AssertionError(f"no report in the run:\n{run.error_message}\n{run.log_tail[-3000:]}")


def assert_learner_report(run: TrainingRun, stage_words: str = "Your code failed while loading") -> dict[str, Any]:
    assert_failed(run, "learner_error")
    assert stage_words in run.error_message and "RuntimeError: HOSTILE REPORT" in run.error_message, run.error_message
    return hostile_report(run)


def assert_reference_trains(worker: Worker, task: TaskSpec, children: list[int]) -> None:
    """The same worker (same process, same child running jobs) then trains a good submission normally."""
    assert worker.process.poll() is None, worker.log()[-3000:]
    good = wait_for_run(submit(learner(), task, REFERENCE, "reference.py"), 240)
    assert good.status == "succeeded", (good.error_kind, good.error_message, good.log_tail[-3000:])
    assert good.passed is True and good.metrics["accuracy"] >= task.threshold
    assert worker.process.poll() is None
    assert sorted(worker.child_pids()) == sorted(children), "the worker's pool process was replaced"


# --- 1-4: snooping ---------------------------------------------------------------------------------------


def test_environment_and_settings_secrets_are_out_of_reach(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    code = hostile(
        "snoop_secrets", marker, SETTINGS=REPO / "tracker" / "project" / "settings.py", DOTENV=REPO / ".env"
    )  # fmt: skip
    run, _ = watch(submit(learner(), tiny_task, code), marker)

    report = assert_learner_report(run)
    assert report["secrets"] == [], report["secrets"]
    # Its environment is the sandbox's own (plus what TensorFlow sets for itself): nothing of the worker's.
    env, sandbox_env = report["env"], sandbox_config().sandbox_env()
    assert sandbox_env.items() <= env.items(), env
    inherited = {name for name, value in env.items() if os.environ.get(name) == value != sandbox_env.get(name)}
    assert not inherited, inherited
    assert not {"SECRET_KEY", "DATABASE_URL", "VAR_DIR", "TRAINER_DATA_DIR", "CELERY_BROKER_URL"} & set(env), env
    assert report["tried"][str(REPO / "tracker" / "project" / "settings.py")] == "FileNotFoundError"
    assert report["tried"][str(REPO / ".env")] == "FileNotFoundError"
    assert len(report["pids"]) <= 3, report["pids"]  # its own PID namespace: bwrap's init and itself
    assert not [path for path in report["files"] if "tracker" in path or path.endswith(".env")], report["files"]
    assert_not_leaked(run, settings.SECRET_KEY)
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_root_only_file_is_unreadable(worker: Worker, tiny_task: TaskSpec, root_secret: tuple[Path, str]) -> None:
    children, marker = worker.child_pids(), new_marker()
    path, value = root_secret
    run, _ = watch(submit(learner(), tiny_task, hostile("root_file", marker, PATH=path)), marker)

    report = assert_learner_report(run)
    # It sees the file (so only the unprivileged uid stands in the way) and cannot read it. Root shows
    # as the overflow uid inside the sandbox's user namespace.
    assert report["exists"] is True and report["owner"] in (0, 65534) and report["mode"] == "0o600", report
    assert report["open"] == "PermissionError" and report["proc-root"] == "PermissionError", report
    attempts = {key: report[key] for key in ("open", "proc-root", "copy", "hardlink", "chmod")}
    assert not [key for key, result in attempts.items() if result.startswith("OK")], attempts
    assert_not_leaked(run, value)
    assert path.read_text() == value and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_hidden_labels_are_out_of_reach(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    labels = dataset_files(tiny_task.dataset)["test_labels"]
    assert labels.is_file()
    run, _ = watch(submit(learner(), tiny_task, hostile("labels", marker, LABELS=labels)), marker)

    report = assert_learner_report(run)
    assert report[str(labels)] == "FileNotFoundError", report
    assert not [key for key, value in report.items() if isinstance(value, str) and value.startswith("OK")], report
    assert set(report["/job"]) <= {"data", "out", "spec.json", "submission.py", "__pycache__"}, report["/job"]
    assert report["/job/data"] == ["train.npz"], report["/job/data"]
    assert report["found"] == [], report["found"]
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def redis_has_key(key: str) -> bool | None:
    """Whether the host's Redis holds `key` (None when there is no Redis to ask)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as connection:
            connection.sendall(f"EXISTS {key}\r\n".encode())
            reply = connection.recv(100)
    except OSError:
        return None
    return reply.startswith(b":1")


def test_no_network_reaches_redis_postgres_or_the_internet(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("network", marker)), marker)

    report = assert_learner_report(run)
    assert report["interfaces"] == ["lo"], report["interfaces"]  # its own network namespace
    for name in ("redis", "postgres", "rabbitmq", "internet"):
        assert report[name].startswith(("ConnectionRefusedError", "OSError", "TimeoutError")), (name, report[name])
    assert not [key for key, value in report.items() if "CONNECTED" in str(value) or "RESOLVED" in str(value)]
    assert redis_has_key(marker) in (False, None)  # what it tried to SET on the host's Redis is not there
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


# --- 5-10: resources -------------------------------------------------------------------------------------


def test_fork_bomb_is_stopped_by_the_pids_limit(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, seen = watch(submit(learner(), tiny_task, hostile("fork_bomb", marker)), marker)

    assert_failed(run, "learner_error", "crashed")
    assert 10 <= seen <= settings.TRAINER_PIDS_MAX, seen
    if run.error_kind == "learner_error":
        report = hostile_report(run)
        assert report["children"] < settings.TRAINER_PIDS_MAX and "Resource temporarily unavailable" in report["error"]
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_memory_bomb_is_stopped_as_out_of_memory(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("memory_bomb", marker)), marker)

    assert_failed(run, "out_of_memory")
    assert "memory" in run.error_message.lower(), run.error_message
    assert "allocated 8 GB" not in run.log_tail
    assert run.timings["peak_memory_mb"] <= tiny_task.memory_mb + 1, run.timings
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_infinite_loop_times_out(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    quick = TaskSpec.objects.create(
        slug="tiny-15s", title="Tiny, 15 seconds", claim=tiny_task.claim, dataset=tiny_task.dataset, brief="15 s",
        threshold=tiny_task.threshold, spec=tiny_task.spec, max_epochs=tiny_task.max_epochs, wall_seconds=15,
        memory_mb=tiny_task.memory_mb, max_params=tiny_task.max_params, is_tiny=False,
    )  # fmt: skip
    run, seen = watch(submit(learner(), quick, hostile("infinite_loop", marker)), marker, 120)

    assert_failed(run, "timeout")
    assert "15-second" in run.error_message, run.error_message
    assert seen >= 1  # the looping harness was there, under its marker...
    assert 15 <= run.timings["train"] < 30, run.timings
    assert_no_marked_processes(marker)  # ...and is gone
    assert_reference_trains(worker, tiny_task, children)


def test_processes_in_new_sessions_do_not_outlive_the_run(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, seen = watch(submit(learner(), tiny_task, hostile("daemon", marker)), marker)

    report = assert_learner_report(run)
    assert report["daemonised"] is True
    assert seen >= 3, seen  # the harness and both sleepers were seen while it ran
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_a_1gb_output_file_is_stopped_by_the_file_size_limit(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("big_file", marker)), marker)

    assert_failed(run, "learner_error")
    assert "File too large" in run.error_message, run.error_message
    assert "written 640 MB" not in run.log_tail  # it was stopped at the 512 MB limit
    files = artifact_files(run)
    assert "model.keras" not in files, files
    assert all(path.stat().st_size < 1024 * 1024 for path in files.values()), files
    jobs = Path(settings.TRAINER_ROOT) / "jobs"
    big = [p for p in jobs.rglob("*") if p.is_file() and not p.is_symlink() and p.stat().st_size > 256 * 1024 * 1024]
    assert big == [], big  # its job folder was removed
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_many_files_under_the_size_limit_are_stopped_by_the_disk_budget(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("disk_filler", marker)), marker)

    assert_failed(run, "over_budget")
    assert "disk budget" in run.error_message, run.error_message
    assert "filled 3200 MB" not in run.log_tail
    jobs = Path(settings.TRAINER_ROOT) / "jobs"
    assert not [p for p in jobs.rglob("fill-*.bin")], "its job folder was removed"
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_an_output_flood_keeps_only_a_capped_log(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("flood", marker)), marker, 240)

    assert run.status in ("succeeded", "failed"), run.status
    if run.status == "failed":
        assert run.error_kind == "timeout", (run.error_kind, run.error_message)
    assert len(run.log_tail) <= MAX_LOG_CHARS, len(run.log_tail)
    assert f"flood {marker}" in run.log_tail
    assert "earlier bytes of output not kept]" in run.log_tail  # the learner is told output was dropped
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


# --- 11-12: the file system ------------------------------------------------------------------------------


def test_writes_outside_the_job_folder_fail(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    root = Path(settings.TRAINER_ROOT)
    harness = root / "runtime" / "harness" / "harness.py"
    harness_sha = hashlib.sha256(harness.read_bytes()).hexdigest()
    name = f"skillproof-hostile-{marker}.txt"
    created = [
        Path("/usr/share") / name, Path("/usr/local") / name, Path("/var/tmp") / name, Path("/") / name,
        Path("/etc") / name, root / name, root / "jobs" / name, root / "runtime" / name,
        Path(settings.MEDIA_ROOT) / name, REPO / name,
    ]  # fmt: skip
    targets = "|".join(str(path) for path in [*created, harness])
    run, _ = watch(submit(learner(), tiny_task, hostile("write_outside", marker, TARGETS=targets)), marker)

    report = assert_learner_report(run)
    # Containment: nothing appeared on the host, and the shared runtime is untouched.
    assert [path for path in created if path.exists()] == []
    assert hashlib.sha256(harness.read_bytes()).hexdigest() == harness_sha
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)
    # And every attempt failed inside the sandbox too: nothing but /job and the private /tmp is writable.
    # (Checked last, so that the checks above still run if this fails: a write into the sandbox's own root
    # lands on a private tmpfs, which is not the host, but the sandbox root is meant to be read-only.)
    wrote = [path for path, result in report.items() if result == "WROTE"]
    assert wrote == [], f"writes outside /job and /tmp succeeded inside the sandbox: {wrote}"


def test_output_links_to_secrets_are_never_followed(
    worker: Worker, tiny_task: TaskSpec, root_secret: tuple[Path, str], tmp_path: Path
) -> None:
    children = worker.child_pids()
    secret_file, file_value = root_secret
    dir_value = f"secret-dir-{secrets.token_hex(16)}"
    secret_dir = tmp_path / "root-only"
    secret_dir.mkdir(mode=0o700)
    for name in ("model.keras", "summary.txt", "environment.json", "result.json"):
        (secret_dir / name).write_text(dir_value)
        (secret_dir / name).chmod(0o600)
    passwd_line = Path("/etc/passwd").read_text().splitlines()[0]  # root:x:0:0:...

    for variant in ("files", "out-to-etc", "out-to-secret-dir"):
        marker = new_marker()
        code = hostile("symlinks", marker, VARIANT=variant, SECRET_FILE=secret_file, SECRET_DIR=secret_dir)
        run, _ = watch(submit(learner(), tiny_task, code), marker)

        assert f"planted {variant}" in run.log_tail, (variant, run.log_tail[-2000:])
        assert_failed(run, "no_model")
        assert "no model was saved" in run.error_message, run.error_message
        assert run.model_summary == "" and run.environment == {}, (variant, run.model_summary, run.environment)
        assert_not_leaked(run, file_value, dir_value, passwd_line)
        files = artifact_files(run)
        assert not {"model.keras", "summary.txt", "environment.json", "architecture.png"} & set(files), files
        assert_no_marked_processes(marker)
    assert secret_file.read_text() == file_value
    assert_reference_trains(worker, tiny_task, children)


# --- 13-16: what comes out of the sandbox ---------------------------------------------------------------


def test_wrong_output_shape_is_a_shape_mismatch(
    worker: Worker, models_task: TaskSpec, keras_files: dict[str, bytes]
) -> None:
    tiny_task = models_task
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("seven_outputs", marker)), marker)
    assert_failed(run, "shape_mismatch")
    assert "(None, 7)" in run.error_message and "(None, 10)" in run.error_message, run.error_message

    upload, _ = watch(submit(learner(), tiny_task, keras_files["seven_outputs.keras"], "seven.keras"), marker)
    assert upload.source_kind == "keras"
    assert_failed(upload, "shape_mismatch")
    assert "(None, 7)" in upload.error_message and "(None, 10)" in upload.error_message, upload.error_message
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_nan_predictions_are_bad_predictions(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("nan_weights", marker)), marker)

    assert_failed(run, "bad_predictions")
    assert "NaN" in run.error_message and "finite" in run.error_message, run.error_message
    assert run.metrics == {} and run.passed is None
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_pickled_predictions_written_in_training_are_ignored(
    worker: Worker, tiny_task: TaskSpec, tmp_path: Path
) -> None:
    children, marker = worker.child_pids(), new_marker()
    pwned = tmp_path / f"pwned-{marker}"
    run, _ = watch(submit(learner(), tiny_task, hostile("pickle_predictions", marker, PWNED=pwned)), marker)

    assert "wrote pickled /job/out/predictions.npy" in run.log_tail, run.log_tail[-2000:]
    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert not pwned.exists(), "the pickle was loaded on the host"
    files = artifact_files(run)
    assert "predictions.npy" not in files, files  # the training sandbox's file was never copied out
    # The metrics are the real ones: those of the predict sandbox's plain float predictions.
    predictions = np.load(files["predict/predictions.npy"], allow_pickle=False)
    assert predictions.dtype.kind == "f" and predictions.shape == (500, 10)
    with np.load(dataset_files(tiny_task.dataset)["test_labels"], allow_pickle=False) as data:
        labels = data["y"]
    accuracy = round(float(np.mean(predictions.argmax(axis=1) == labels)), 4)
    assert run.metrics["accuracy"] == accuracy, (run.metrics, accuracy)
    assert run.passed is (accuracy >= tiny_task.threshold)
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_a_lambda_layer_upload_is_an_unsafe_model(
    worker: Worker, models_task: TaskSpec, keras_files: dict[str, bytes]
) -> None:
    tiny_task = models_task
    children = worker.child_pids()
    run = wait_for_run(submit(learner(), tiny_task, keras_files["lambda_layer.keras"], "lambda.keras"))

    assert_failed(run, "unsafe_model")
    assert "Lambda layer" in run.error_message, run.error_message
    assert_reference_trains(worker, tiny_task, children)


def test_a_custom_layer_upload_asks_for_the_code(
    worker: Worker, models_task: TaskSpec, keras_files: dict[str, bytes]
) -> None:
    """A .keras file alone cannot bring the code of its custom objects, and none is ever imported for it."""
    run = wait_for_run(submit(learner(), models_task, keras_files["custom_layer.keras"], "custom.keras"))

    assert_failed(run, "bad_model_file")
    assert "mine>Twice" in run.error_message and "submit the code" in run.error_message, run.error_message


# --- 17-18: the process tree, notebooks ----------------------------------------------------------------


def test_killing_the_parent_crashes_only_the_run(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    # A process of the sandbox's own uid on the host: only the PID namespace keeps kill(-1) off it.
    config = sandbox_config()
    sentinel = subprocess.Popen(
        ["setpriv", f"--reuid={config.sandbox_uid}", f"--regid={config.sandbox_gid}", "--clear-groups",
         "/bin/sh", "-c", "sleep 300; exit 0", f"sentinel-{marker}"],
        start_new_session=True,
    )  # fmt: skip
    try:
        run, _ = watch(submit(learner(), tiny_task, hostile("kill_parent", marker)), marker)
        assert sentinel.poll() is None, "kill(-1) in the sandbox reached a host process of the same uid"
    finally:
        os.killpg(sentinel.pid, signal.SIGKILL)
        sentinel.wait()

    report = hostile_report(run)  # printed before it killed its own process group
    assert report["ppid"] == 1 and report["parent"] == "sent" and report["still_alive"] is True, report
    assert_failed(run, "crashed")
    assert "before finishing" in run.error_message, run.error_message
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_notebook_shell_and_magic_lines_are_dropped(worker: Worker, tiny_task: TaskSpec) -> None:
    import nbformat

    children = worker.child_pids()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# My model"),
        nbformat.v4.new_code_cell("!curl http://example.com\n%pip install x\nimport numpy as np"),
        nbformat.v4.new_code_cell(REFERENCE.decode()),
    ]
    run = wait_for_run(submit(learner(), tiny_task, nbformat.writes(notebook).encode(), "model.ipynb"), 240)

    assert run.source_kind == "ipynb"
    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert run.passed is True
    assert len(run.notices) == 2, run.notices
    assert "!curl http://example.com" in run.notices[0] and "%pip install x" in run.notices[1], run.notices
    assert all("dropped" in notice for notice in run.notices), run.notices
    assert worker.process.poll() is None and sorted(worker.child_pids()) == sorted(children)


# --- 19-21: what is read back, the CPU -------------------------------------------------------------------

# Learner code writing the platform's own files in out/ (tests/trainer/hostile/forged_outputs.py): how each
# run must end. Values no column or page can hold are the learner's doing, never a platform fault.
FORGED = {
    "epoch-huge": ("failed", "bad_output"),
    "epoch-nan": ("failed", "bad_output"),
    "huge-strings": ("failed", "bad_output"),
    "deep": ("succeeded", ""),  # a progress line no parser can read is skipped, like one being written
    "result-deep": ("failed", "crashed"),  # a result file no parser can read explains nothing
    "result-surrogate": ("failed", "learner_error"),  # its message, made storable
}


def assert_not_retried(worker: Worker, run: TrainingRun) -> None:
    """Ended at its first attempt, as the learner's: no platform fault, no internal message shown to them."""
    assert run.attempt == 1, (run.attempt, run.error_kind, run.error_message)
    assert f"Run {run.pk}: " not in worker.log(), worker.log()[-3000:]
    internal = ("traceback", "overflow", "out of range", "sqlite", "psycopg", "surrogates", "platform failed")
    assert not [word for word in internal if word in run.error_message.lower()], run.error_message
    json.dumps([run.history, run.metrics, run.environment], allow_nan=False).encode()  # storable anywhere


def test_values_no_column_can_hold_end_the_run_as_the_learners(worker: Worker, tiny_task: TaskSpec) -> None:
    children = worker.child_pids()
    for variant, (status, kind) in FORGED.items():
        marker = new_marker()
        run, _ = watch(submit(learner(), tiny_task, hostile("forged_outputs", marker, VARIANT=variant)), marker)

        assert f"forged {variant}" in run.log_tail, (variant, run.log_tail[-2000:])
        assert (run.status, run.error_kind) == (status, kind), (variant, run.error_message, run.log_tail[-2000:])
        assert_not_retried(worker, run)
        if kind == "bad_output":
            assert "out/progress.jsonl" in run.error_message and "epoch" in run.error_message, run.error_message
        if variant == "deep":  # every epoch the harness wrote, the last one included, and nothing else
            assert [row["epoch"] for row in run.history] == [1, 2] and run.epoch == 2, run.history
        if variant == "result-surrogate":
            assert run.error_message == "bad \ufffd\ufffd\ufffd text \ufffd", run.error_message
        assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def test_a_forged_extra_metrics_file_does_not_change_the_score(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    run, _ = watch(submit(learner(), tiny_task, hostile("forged_outputs", marker, VARIANT="metrics")), marker)

    assert run.status == "succeeded", (run.error_kind, run.error_message, run.log_tail[-3000:])
    assert_not_retried(worker, run)
    # The metrics are the scorer's, from the prediction sandbox's predictions of the untrained model.
    predictions = np.load(artifact_files(run)["predict/predictions.npy"], allow_pickle=False)
    with np.load(dataset_files(tiny_task.dataset)["test_labels"], allow_pickle=False) as data:
        accuracy = round(float(np.mean(predictions.argmax(axis=1) == data["y"])), 4)
    assert run.metrics["accuracy"] == accuracy < 1.0 and run.metrics["macro_f1"] < 1.0, (run.metrics, accuracy)
    assert "base_weights_reused" not in run.metrics and run.passed is (accuracy >= tiny_task.threshold)
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)


def marked_sandbox_cgroups(marker: str) -> list[Cgroup]:
    """The cgroups of the sandboxes where a marked process runs, as the host sees them."""
    version = sandbox_config().cgroup_version
    base = CGROUP_ROOT / ("cpu" if version == 1 else "") / "skillproof"
    groups = [Cgroup(folder.name, version) for folder in (base.iterdir() if base.is_dir() else [])]
    return [group for group in groups if any(marker in process_name(pid) for pid in group.pids())]


def process_name(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User and system CPU time of each process still alive, from /proc/<pid>/stat (fields 14 and 15)."""
    found = {}
    for pid in pids:
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def test_a_cpu_hog_gets_only_its_quota(worker: Worker, tiny_task: TaskSpec) -> None:
    children, marker = worker.child_pids(), new_marker()
    cpus, hogs = float(settings.TRAINER_CPUS), 2 * (os.cpu_count() or 1)
    run = submit(learner(), tiny_task, hostile("cpu_hog", marker))
    deadline = time.monotonic() + 120
    while not ((groups := marked_sandbox_cgroups(marker)) and len(marked_processes(marker)) > hogs):
        assert time.monotonic() < deadline, f"the hog never started: {run.log_tail[-2000:]}"
        time.sleep(0.2)
    (group,) = groups
    # The kernel holds the quota, and swap counts in the memory limit.
    assert group.cpu_quota() == pytest.approx(cpus), group.cpu_quota()
    swap = group.memory_folder / ("memory.memsw.limit_in_bytes" if group.version == 1 else "memory.swap.max")
    if swap.exists():
        expected = str(tiny_task.memory_mb * 1024 * 1024) if group.version == 1 else "0"
        assert swap.read_text().strip() == expected
    # Measured from the host over 3 seconds: the hogs together get at most the quota.
    pids = {pid for pid in group.pids() if marker in process_name(pid)}
    before, started = cpu_seconds(pids), time.monotonic()
    time.sleep(3)
    after, wall = cpu_seconds(pids), time.monotonic() - started
    used = sum(after[pid] - before[pid] for pid in after.keys() & before.keys())
    assert used / wall <= cpus * 1.1 + 0.15, (used, wall, cpus)
    stat = dict(line.split() for line in (group.cpu_folder / "cpu.stat").read_text().splitlines())
    assert int(stat["nr_throttled"]) > 0, stat

    run, _ = watch(run, marker)
    report = assert_learner_report(run)
    assert report["children"] == hogs and report["cpu"] / report["wall"] <= cpus * 1.1 + 0.15, report
    assert_no_marked_processes(marker)
    assert_reference_trains(worker, tiny_task, children)
