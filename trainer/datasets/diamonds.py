"""Diamond prices: ggplot2's `diamonds` (53,940 round diamonds), exported by R at build time, price from the rest.

The data ships with Debian's r-cran-ggplot2; Rscript writes it as CSV (the ordered factors cut, color and clarity
as their level numbers, worst to best for cut and clarity, best to worst for color as R orders them) and numpy
splits it with the installation's secret. The rows are public, so the test labels are too (test_labels_public):
tasks on it train on the server and cap the code's size.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np

from trainer.datasets.base import (
    BuiltDataset,
    DatasetUnavailable,
    Seeds,
    built_dataset,
    file_sizes,
    write_splits,
)

VERSION = "1"
SLUG = "diamonds"
TINY_SLUG = "diamonds-tiny"
FEATURES = ("carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z")
LEVELS = {
    "cut": ("Fair", "Good", "Very Good", "Premium", "Ideal"),
    "color": ("D", "E", "F", "G", "H", "I", "J"),
    "clarity": ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"),
}
TEST_FRACTION = 0.2
TINY_SIZES = (2000, 500)
# Factors as their level numbers (1 = the first level); the levels are printed first, to be checked.
EXPORT = """
data("diamonds", package = "ggplot2")
d <- as.data.frame(diamonds)
for (name in c("cut", "color", "clarity")) cat(name, ":", paste(levels(d[[name]]), collapse = "|"), "\\n", sep = "")
for (name in c("cut", "color", "clarity")) d[[name]] <- as.integer(d[[name]])
write.csv(d[, c("carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z", "price")], stdout(),
          row.names = FALSE)
"""


def export() -> tuple[np.ndarray, np.ndarray]:
    """All of `diamonds` as (features float32 [n, 9], price float32 [n]), read through Rscript."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise DatasetUnavailable("Rscript is missing: apt-get install r-base-core r-cran-ggplot2")
    done = subprocess.run(
        [rscript, "--vanilla", "-e", EXPORT], capture_output=True, text=True, check=False, env={"LANG": "C.UTF-8"}
    )
    if done.returncode != 0:
        raise DatasetUnavailable(f"R could not export diamonds (apt-get install r-cran-ggplot2): {done.stderr[-500:]}")
    lines = done.stdout.splitlines()
    levels = dict(line.split(":", 1) for line in lines[:3])
    for name, expected in LEVELS.items():
        if tuple(levels.get(name, "").split("|")) != expected:
            raise DatasetUnavailable(f"ggplot2's diamonds has other {name} levels than expected: {levels.get(name)}")
    rows = list(csv.reader(io.StringIO("\n".join(lines[3:]))))
    header, body = rows[0], rows[1:]
    if tuple(header) != (*FEATURES, "price"):
        raise DatasetUnavailable(f"ggplot2's diamonds has unexpected columns: {header}")
    table = np.asarray(body, dtype=np.float64)
    return table[:, :-1].astype(np.float32), table[:, -1].astype(np.float32)


def build(out_dir: Path, *, seeds: Seeds, tiny: bool = False) -> BuiltDataset:
    x, price = export()
    order = seeds.rng(f"{SLUG}/tiny={tiny}").permutation(len(price))
    cut = round(len(order) * TEST_FRACTION)
    test, train = order[:cut], order[cut:]
    if tiny:
        train, test = train[: TINY_SIZES[0]], test[: TINY_SIZES[1]]
    write_splits(
        out_dir, train={"x": x[train], "y": price[train]}, test_inputs={"x": x[test]}, truth={"y": price[test]}
    )
    sizes = file_sizes(out_dir)
    samples = [{"text": _describe(x[i]), "label": f"${price[i]:,.0f}"} for i in train[:4]]
    return built_dataset(
        slug=SLUG,
        tiny_slug=TINY_SLUG,
        tiny=tiny,
        version=VERSION,
        title="Diamond prices (ggplot2)",
        source="R package ggplot2 (Debian r-cran-ggplot2), dataset `diamonds`, exported with Rscript",
        licence="ggplot2 is MIT-licensed; the data are prices of round-cut diamonds",
        description=(
            f"{len(train):,} training and {len(test):,} test diamonds. Inputs, in this order: "
            f"{', '.join(FEATURES)} (cut, color and clarity as level numbers: cut 1 = Fair .. 5 = Ideal, color "
            "1 = D (best) .. 7 = J, clarity 1 = I1 (worst) .. 8 = IF). Target: price in US dollars."
        ),
        stats={
            "splits": {"train": {"count": len(train)}, "test": {"count": len(test)}},
            "features": list(FEATURES),
            "levels": {name: list(values) for name, values in LEVELS.items()},
            "price_median": round(float(np.median(price[train])), 1),
            "price_mean": round(float(np.mean(price[train])), 1),
            "price_sd": round(float(np.std(price[train])), 1),
            "samples": samples,
            "file_sizes": sizes,
            "total_bytes": sum(sizes.values()),
        },
        test_labels_public=True,
    )


def _describe(row: np.ndarray) -> str:
    carat, cut, color, clarity, depth, table, *xyz = (float(v) for v in row)
    names = [
        LEVELS["cut"][int(cut) - 1],
        f"color {LEVELS['color'][int(color) - 1]}",
        LEVELS["clarity"][int(clarity) - 1],
    ]
    size = " x ".join(f"{v:.2f}" for v in xyz)
    return f"{carat:.2f} carat, {', '.join(names)}, depth {depth:.1f}%, table {table:.0f}%, {size} mm"
