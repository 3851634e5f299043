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


def attempt(name, action):
    try:
        report[name] = f"OK {action()!r}"
    except OSError as error:
        report[name] = type(error).__name__


attempt("open", lambda: open(PATH).read())
attempt("proc-root", lambda: open("/proc/self/root" + PATH).read())
attempt("copy", lambda: shutil.copy(PATH, "/job/out/stolen.txt") and open("/job/out/stolen.txt").read())
attempt("hardlink", lambda: os.link(PATH, "/job/stolen") or open("/job/stolen").read())
attempt("chmod", lambda: os.chmod(PATH, 0o644) or open(PATH).read())
hostile_report(report)  # noqa: F821
