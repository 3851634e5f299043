"""Hostile: keep twice as many processes as the host has cores spinning, then report the CPU time they got."""

import os
import time

SECONDS = 8
started = time.monotonic()
children = []
for _ in range(2 * (os.cpu_count() or 1)):
    pid = os.fork()
    if pid == 0:  # a child keeps the harness's name (the marker): the test finds it on the host
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            pass
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
times = os.times()
wall = time.monotonic() - started
hostile_report(  # noqa: F821
    {"children": len(children), "wall": round(wall, 2), "cpu": round(times.children_user + times.children_system, 2)}
)
