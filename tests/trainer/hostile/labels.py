"""Hostile: find the hidden test labels (the host path, the job folder, anywhere on the file system)."""

import os
import time

LABELS = "@LABELS@"  # the host path of labels/test_labels.npz

report = {}
for path in (LABELS, "/proc/1/root" + LABELS, "/job/data/../labels/test_labels.npz", "/job/labels/test_labels.npz"):
    try:
        with open(path, "rb") as handle:
            report[path] = f"OK {len(handle.read())} bytes"
    except OSError as error:
        report[path] = type(error).__name__
report["/job"] = sorted(os.listdir("/job"))
report["/job/data"] = sorted(os.listdir("/job/data"))

found, deadline = [], time.monotonic() + 5
for root, dirs, files in os.walk("/"):
    if root == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    if time.monotonic() > deadline:
        report["walk"] = "gave up after 5 s"
        break
    found += [os.path.join(root, f) for f in files if "test_labels" in f or "test_inputs" in f]
report["found"] = found
hostile_report(report)  # noqa: F821
