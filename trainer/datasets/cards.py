"""Pictures for dataset cards, drawn at build time with Pillow into the dataset's `card/` folder.

The pictures come from the training split only, never from the test inputs or labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from trainer.datasets.base import CARD_DIR

# A colour per class for masks: background black, then distinct hues.
PALETTE = np.array(
    [[0, 0, 0], [230, 80, 60], [60, 160, 230], [250, 200, 40], [120, 200, 90], [200, 90, 200], [240, 140, 40]],
    dtype=np.uint8,
)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return (scaled * 255).round().astype(np.uint8)


def save_image(out_dir: Path, name: str, image: np.ndarray, *, scale: int = 4) -> str:
    """Save one grey (h, w) or colour (h, w, 3) picture, enlarged `scale` times without smoothing."""
    folder = out_dir / CARD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    data = image if image.dtype == np.uint8 and image.ndim == 3 else _to_uint8(image)
    picture = Image.fromarray(data)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    picture.save(folder / name, format="PNG", optimize=True)
    return f"{CARD_DIR}/{name}"


def mask_colours(mask: np.ndarray) -> np.ndarray:
    return PALETTE[np.asarray(mask, dtype=np.int64) % len(PALETTE)]


def spectrogram(waveform: np.ndarray, *, frame: int = 256, hop: int = 80) -> np.ndarray:
    """A log-magnitude spectrogram (frequency up, time right) for a card picture."""
    signal = np.asarray(waveform, dtype=np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(signal, frame)[::hop] * np.hanning(frame)
    magnitude = np.abs(np.fft.rfft(frames, axis=1)).T
    return np.log1p(magnitude * 50)[::-1]


def strip(images: list[np.ndarray]) -> np.ndarray:
    """Pictures of one size side by side, with a 1-pixel gap."""
    height = images[0].shape[0]
    gap = np.full((height, 1, *images[0].shape[2:]), images[0].max() if images[0].dtype != np.uint8 else 255)
    parts: list[np.ndarray] = []
    for image in images:
        parts += [image, gap.astype(image.dtype)]
    return np.concatenate(parts[:-1], axis=1)


def card_for_page(stats: dict[str, Any] | None) -> dict[str, Any]:
    """What a task page's dataset card shows, from the stats its build recorded (class shares, pictures, samples)."""
    stats = stats or {}
    names = list(stats.get("class_names") or [])
    splits = []
    for split in ("train", "test"):
        counts = list(stats.get("splits", {}).get(split, {}).get("class_counts") or [])
        total = sum(counts) or 1
        rows = [
            {"name": names[i] if i < len(names) else str(i), "count": n, "share": round(100 * n / total, 1)}
            for i, n in enumerate(counts)
        ]
        splits.append({"name": split, "count": stats.get("splits", {}).get(split, {}).get("count", 0), "classes": rows})
    return {
        "splits": splits,
        "pictures": [p for p in stats.get("pictures", []) if isinstance(p, str)],
        "samples": [s for s in stats.get("samples", []) if isinstance(s, dict)][:8],
        "megabytes": round(int(stats.get("total_bytes", 0)) / (1024 * 1024), 1),
        "test_inputs_megabytes": round(int(stats.get("file_sizes", {}).get("test_inputs.npz", 0)) / (1024 * 1024), 1),
    }
