"""Hostile: fill the disk with many files, each under the 512 MB file-size limit."""


def build_model(spec):
    chunk = b"\1" * (8 << 20)
    for index in range(8):  # 8 x 400 MB: far past the job folder's 1 GB budget
        with open(f"/job/fill-{index}.bin", "wb") as handle:
            for _ in range(50):
                handle.write(chunk)
        print(f"filled {(index + 1) * 400} MB", flush=True)
    hostile_report({"filled_mb": 3200})  # noqa: F821
