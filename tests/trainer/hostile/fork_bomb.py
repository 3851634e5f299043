"""Hostile: fork until the system stops us; every child lingers as a shell (named MARKER) sleeping."""

import os
import time

children, error = 0, None
while children < 5000:  # a bound, in case nothing else stops it
    try:
        pid = os.fork()
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
        break
    if pid == 0:
        try:
            os.execv("/bin/sh", ["sh", "-c", "sleep 600; exit 0", MARKER])  # noqa: F821, S606
        finally:
            os._exit(0)
    children += 1
time.sleep(3)  # long enough for the test to count the children
hostile_report({"children": children, "error": error})  # noqa: F821
