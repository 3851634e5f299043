"""The hostile battery's core on the engines other than TensorFlow (test_hostile.py runs all of it there): each
engine has its own runtime, so its own attack surface. Network, writes outside the job (the engine's own runtime
among the targets), a fork bomb, /proc and the worker's secrets, and the compile caches of JAX and PyTorch pointed
outside the job. On the R engine the same attacks run from an R script, through reticulate, in the R process the
sandbox started (and test_engine_r.py adds R's own system("curl ...")). Containment is checked from the host, as
in test_hostile.py, whose helpers this reuses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.trainer.conftest import REFERENCE, Worker, submit, wait_for_run
from tests.trainer.test_hostile import (
    REPO,
    assert_failed,
    assert_learner_report,
    assert_no_marked_processes,
    hostile,
    hostile_report,
    learner,
    new_marker,
    redis_has_key,
    watch,
)
from trainer.engines import facts
from trainer.models import TaskSpec
from trainer.sandbox.config import sandbox_config

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ENGINES = ["jax", "torch", "tf_keras", "r"]


@pytest.fixture(scope="module")
def module_worker(
    sandbox: None, data_dir: Path, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """One worker keeping a warm sandbox of each engine (no TensorFlow one: no run here needs it)."""
    started = Worker(
        data_dir, tmp_path_factory.mktemp("engines-hostile") / "worker.log", TRAINER_POOL_SIZE="0",
        TRAINER_POOL_SIZES="jax=1,torch=1,tf_keras=1,r=1", TRAINER_HEARTBEAT_STALE_SECONDS="60",
        TRAINER_REAP_INTERVAL_SECONDS="5",
    )  # fmt: skip
    yield started
    started.stop()


@pytest.fixture
def worker(module_worker: Worker, tiny_task: TaskSpec) -> Worker:
    assert module_worker.process.poll() is None, module_worker.log()[-3000:]
    return module_worker


@pytest.fixture
def task(engine: str, request: pytest.FixtureRequest) -> TaskSpec:
    """The tiny task the attack is submitted to: the R task's on the R engine, else Fashion-MNIST's."""
    return request.getfixturevalue("r_task" if engine == "r" else "tiny_task")  # type: ignore[no-any-return]


def as_r_script(code: bytes) -> bytes:
    """The Python attack as an R script that runs it through reticulate, in the R engine's own process."""
    assert b"]---" not in code
    return b'reticulate::py_run_string(r"---[' + code + b']---")\n'


def attack(task: TaskSpec, engine: str, name: str, marker: str, **values: Any) -> Any:
    code = hostile(name, marker, **values)
    upload = (as_r_script(code), "hostile.R") if engine == "r" else (code, "submission.py")
    run, seen = watch(submit(learner(), task, *upload, engine=engine), marker)
    assert run.engine == engine
    return run, seen


def learner_report(run: Any, engine: str) -> dict[str, Any]:
    if engine != "r":
        return assert_learner_report(run)
    # The Python error reaches R through reticulate, whose 1.28 garbles a long one ("basic_string::substr"): the
    # report is then read from the log, where the prelude printed it whole.
    assert_failed(run, "learner_error")
    assert "Your R script failed while loading" in run.error_message, run.error_message
    return hostile_report(run)


@pytest.mark.parametrize("engine", ENGINES)
def test_no_network_on_any_engine(worker: Worker, task: TaskSpec, engine: str) -> None:
    marker = new_marker()
    run, _ = attack(task, engine, "network", marker)

    report = learner_report(run, engine)
    assert report["interfaces"] == ["lo"], report["interfaces"]
    for name in ("redis", "postgres", "rabbitmq", "internet"):
        assert report[name].startswith(("ConnectionRefusedError", "OSError", "TimeoutError")), (name, report[name])
    assert report["dns"] != "" and not str(report["dns"]).startswith("RESOLVED"), report["dns"]
    assert redis_has_key(marker) in (False, None)
    assert_no_marked_processes(marker)


@pytest.mark.parametrize("engine", ENGINES)
def test_no_writes_outside_the_job_on_any_engine(worker: Worker, task: TaskSpec, engine: str) -> None:
    marker = new_marker()
    root, venv = Path(settings.TRAINER_ROOT), sandbox_config().python_for(engine).parent.parent
    (site,) = venv.glob("lib/python3*/site-packages")
    name = f"skillproof-hostile-{marker}.txt"
    other = sandbox_config().python_for("tensorflow" if engine in ("jax", "r") else "jax").parent.parent
    (elsewhere,) = other.glob("lib/python3*/site-packages")  # another engine's runtime
    created = [
        Path("/var/tmp") / name, Path("/") / name, root / name, root / "runtime" / name, venv / name, site / name,
        site / "keras" / name, Path(settings.MEDIA_ROOT) / name, REPO / name, elsewhere / name,
    ]  # fmt: skip
    run, _ = attack(task, engine, "write_outside", marker, TARGETS="|".join(map(str, created)))

    report = learner_report(run, engine)
    assert [path for path in created if path.exists()] == []
    assert [path for path, result in report.items() if result == "WROTE"] == [], report
    # Its own runtime is there, read-only; another engine's is not there at all (nothing of it to import).
    assert "Read-only file system" in report[str(site / name)], report
    assert report[str(elsewhere / name)].startswith("FileNotFoundError"), report
    assert_no_marked_processes(marker)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_fork_bomb_is_stopped_on_any_engine(worker: Worker, task: TaskSpec, engine: str) -> None:
    marker = new_marker()
    run, seen = attack(task, engine, "fork_bomb", marker)

    assert_failed(run, "learner_error", "crashed")
    assert 10 <= seen <= settings.TRAINER_PIDS_MAX, seen
    if run.error_kind == "learner_error":
        report = hostile_report(run)
        assert report["children"] < settings.TRAINER_PIDS_MAX and "Resource temporarily unavailable" in report["error"]
    assert_no_marked_processes(marker)


@pytest.mark.parametrize("engine", ENGINES)
def test_proc_and_the_workers_secrets_are_out_of_reach_on_any_engine(
    worker: Worker, task: TaskSpec, engine: str
) -> None:
    marker = new_marker()
    code = {"SETTINGS": REPO / "tracker" / "project" / "settings.py", "DOTENV": REPO / ".env"}
    run, _ = attack(task, engine, "snoop_secrets", marker, **code)

    report = learner_report(run, engine)
    assert report["secrets"] == [], report["secrets"]
    env, sandbox_env = report["env"], sandbox_config().sandbox_env(engine)
    if engine == "r":  # reticulate puts the runtime's bin folder first on PATH (for what Python starts): no host's
        runtime_bin = str(sandbox_config().python_for(engine).parent)
        assert env["PATH"].split(":") == [runtime_bin, *sandbox_env.pop("PATH").split(":")], env["PATH"]
    assert sandbox_env.items() <= env.items(), env  # its engine's variables among them (KERAS_BACKEND...)
    assert env["KERAS_BACKEND"] == facts(engine).backend
    inherited = {name for name, value in env.items() if os.environ.get(name) == value != sandbox_env.get(name)}
    assert not inherited, inherited
    assert len(report["pids"]) <= 3, report["pids"]  # its own PID namespace
    assert report["tried"][str(REPO / "tracker" / "project" / "settings.py")] == "FileNotFoundError"
    assert_no_marked_processes(marker)


@pytest.mark.parametrize("engine", ["jax", "torch"])
def test_compile_caches_stay_inside_the_job(worker: Worker, tiny_task: TaskSpec, engine: str) -> None:
    marker = new_marker()
    venv = sandbox_config().python_for(engine).parent.parent
    outside = [Path("/var/tmp") / f"cache-{marker}", venv / f"cache-{marker}", Path(settings.TRAINER_ROOT) / marker]
    run, _ = attack(tiny_task, engine, "compile_caches", marker, TARGETS="|".join(map(str, outside)))

    report = assert_learner_report(run)
    assert report["backend"] == engine
    assert [path for path in outside if path.exists()] == [], report  # nothing reached the host
    assert not [key for key, value in report.items() if str(value).startswith("WROTE")], report
    assert_no_marked_processes(marker)


def test_the_same_worker_then_trains_on_every_engine(worker: Worker, tiny_task: TaskSpec) -> None:
    for engine in ENGINES[:2]:
        good = wait_for_run(submit(learner(), tiny_task, REFERENCE, engine=engine), 300)
        assert good.status == "succeeded" and good.passed is True, (engine, good.error_message, good.log_tail[-2000:])
        # A warm sandbox of the engine took the training (the pool keeps one; the prediction may start cold).
        assert good.environment["backend"] == engine and "train" not in good.timings.get("cold_start", []), good.timings
