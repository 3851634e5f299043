"""Hostile: leave processes behind that try to outlive the run (new sessions, re-parented)."""

import os
import subprocess
import time

sleeper = subprocess.Popen(
    ["/bin/sh", "-c", "sleep 1000; exit 0", MARKER],  # noqa: F821 - $0 is the marker
    start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)  # fmt: skip
child = os.fork()
if child == 0:  # the classic double fork: the grandchild has its own session and no parent
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["sh", "-c", "sleep 1001; exit 0", MARKER])  # noqa: F821, S606
    os._exit(0)
os.waitpid(child, 0)
time.sleep(4)  # long enough for the test to see them
hostile_report({"sleeper": sleeper.pid, "daemonised": True})  # noqa: F821
