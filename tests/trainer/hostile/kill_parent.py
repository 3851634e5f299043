"""Hostile: kill the parent, PID 1 and everything else in reach, then the whole process group."""

import json
import os
import signal
import time

report = {"pid": os.getpid(), "ppid": os.getppid()}
for name, pid in (("parent", os.getppid()), ("init", 1), ("everyone", -1)):
    try:
        os.kill(pid, signal.SIGKILL)
        report[name] = "sent"
    except OSError as error:
        report[name] = type(error).__name__
time.sleep(1)
report["still_alive"] = True
print("HOSTILE REPORT " + json.dumps(report), flush=True)
os.killpg(0, signal.SIGKILL)  # and at last our own process group: a hard crash
