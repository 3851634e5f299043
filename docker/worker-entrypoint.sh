#!/bin/sh
# The worker container: root inside its own cgroup namespace, so that it can give every sandbox
# its own memory, pids and CPU limits. Docker mounts /sys/fs/cgroup read-only; with CAP_SYS_ADMIN and a
# private cgroup namespace the worker remounts its own subtree writable (it sees nothing above it).
set -eu
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
  # cgroup v2: processes may not sit in a group that delegates controllers; move them to a leaf.
  mkdir -p /sys/fs/cgroup/worker
  for pid in $(cat /sys/fs/cgroup/cgroup.procs); do echo "$pid" > /sys/fs/cgroup/worker/cgroup.procs 2>/dev/null || true; done
  echo "+memory +pids +cpu" > /sys/fs/cgroup/cgroup.subtree_control
fi
python manage.py build_datasets
python manage.py sandbox_setup
# WORKER_QUEUES: "celery" (CPU runs), "gpu" (runs of tasks that need an accelerator), or both ("celery,gpu").
exec celery -A tracker.project worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-1}" --queues "${WORKER_QUEUES:-celery}"
