"""Hostile: write outside the job folder: read-only mounts, the host's folders, the sandbox's own root."""

SEPARATOR = "|"
TARGETS = "@TARGETS@".split(SEPARATOR)  # host paths; existing files are opened for append, left unchanged

report = {}
for path in TARGETS:
    try:
        with open(path, "ab") as handle:
            handle.write(b"" if path.endswith(".py") else f"hostile {MARKER}\n".encode())  # noqa: F821
        report[path] = "WROTE"
    except OSError as error:
        report[path] = f"{type(error).__name__}: {error.strerror}"
hostile_report(report)  # noqa: F821
