"""Hostile: write 1 GB into the outputs (the file-size limit is 512 MB)."""


def build_model(spec):
    chunk = b"\0" * (8 << 20)
    with open("/job/out/model.keras", "wb") as handle:
        for written in range(0, 1 << 30, len(chunk)):
            if written % (128 << 20) == 0:
                print(f"written {written >> 20} MB", flush=True)
            handle.write(chunk)
    hostile_report({"written_mb": 1024})  # noqa: F821
