"""Hostile: allocate 8 GB, touching every page."""

import numpy as np


def build_model(spec):
    blocks = []
    for gigabytes in range(1, 9):
        blocks.append(np.ones(1 << 30, dtype=np.uint8))  # np.ones writes every page
        print(f"allocated {gigabytes} GB", flush=True)
    hostile_report({"allocated_gb": len(blocks)})  # noqa: F821
