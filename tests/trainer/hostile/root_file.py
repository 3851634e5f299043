"""Hostile: read a root-only (0600) file that is visible in the sandbox's read-only /usr."""

import os
import shutil
import stat

PATH = "@PATH@"

report = {"exists": os.path.exists(PATH)}
try:
    info = os.stat(PATH)
    report["owner"], report["mode"] = info.st_uid, oct(stat.S_IMODE(info.st_mode))
except OSError as error:
    report["stat"] = type(error).__name__


def read(path):
    with open(path) as handle:
        return handle.read()


def attempt(name, action):
    try:
        report[name] = f"OK {action()!r}"
    except OSError as error:
        report[name] = type(error).__name__


attempt("open", lambda: read(PATH))
attempt("proc-root", lambda: read("/proc/self/root" + PATH))
attempt("copy", lambda: read(shutil.copy(PATH, "/job/out/stolen.txt")))
attempt("hardlink", lambda: os.link(PATH, "/job/stolen") or read("/job/stolen"))
attempt("chmod", lambda: os.chmod(PATH, 0o644) or read(PATH))
hostile_report(report)  # noqa: F821
