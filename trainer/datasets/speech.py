"""Spoken digits: "zero" to "nine" synthesised with espeak-ng in many voices, speeds and pitches.

Every combination of voice, variant, speed and pitch is a *setting*; settings are split at random between
train and test, so the test set is spoken in combinations the model never heard. Each clip gets a random
shift, gain and background noise (seeded), and is stored as one second of 8 kHz int16 audio.
The sandbox cannot run the synthesiser's voices (its data folder is hidden).
"""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from trainer.datasets.base import (
    BuiltDataset,
    DatasetUnavailable,
    Seeds,
    built_dataset,
    split_stats,
    write_splits,
)

INSTALL_HINT = "The spoken-digits task needs the Debian package espeak-ng (apt-get install espeak-ng)"
VERSION = "2"
SLUG = "spoken-digits"
TINY_SLUG = "spoken-digits-tiny"
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
VOICES = ["en-gb", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
VARIANTS = ["", "+f2", "+m3", "+f4"]
SPEEDS = [130, 165, 200]
PITCHES = [35, 55, 75]
RATE = 8000
SECONDS = 1.0
TEST_FRACTION = 0.2
TINY_SETTINGS = 30


def settings_grid() -> list[tuple[str, int, int]]:
    return [(v + variant, s, p) for v, variant, s, p in itertools.product(VOICES, VARIANTS, SPEEDS, PITCHES)]


def synthesise(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """espeak-ng's WAV for `word`, as float64 samples at RATE Hz."""
    try:
        result = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
            capture_output=True, timeout=30, check=True,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        stderr = getattr(error, "stderr", b"") or b""
        raise ValueError(f"espeak-ng failed for voice {voice!r}: {stderr.decode(errors='replace')[:300]}") from error
    with wave.open(io.BytesIO(result.stdout)) as clip:
        rate, frames = clip.getframerate(), clip.readframes(clip.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768
    # Resample: average over each output sample's span (a crude low-pass), then interpolate.
    width = max(round(rate / RATE), 1)
    smooth = np.convolve(samples, np.ones(width) / width, mode="same")
    times = np.arange(0, len(samples) / rate, 1 / RATE)
    return np.interp(times, np.arange(len(samples)) / rate, smooth)


def place(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One second: the clip trimmed of silence, shifted at random, scaled, with background noise."""
    length = int(RATE * SECONDS)
    loud = np.flatnonzero(np.abs(clip) > 0.01)
    if len(loud):
        clip = clip[loud[0] : loud[-1] + 1]
    clip = clip[:length]
    start = int(rng.integers(0, length - len(clip) + 1))
    out = np.zeros(length)
    out[start : start + len(clip)] = clip * rng.uniform(0.4, 1.0) / max(float(np.abs(clip).max()), 1e-6)
    signal_power = float(np.mean(out**2)) or 1e-6
    noise = rng.normal(0, np.sqrt(signal_power / 10 ** (rng.uniform(15, 30) / 10)), size=length)
    return np.clip(out + noise, -1, 1)


def build(out_dir: Path, *, seeds: Seeds, tiny: bool = False) -> BuiltDataset:
    if shutil.which("espeak-ng") is None:
        raise DatasetUnavailable(f"{INSTALL_HINT}; the espeak-ng program is not on PATH.")
    rng = seeds.rng(SLUG)
    grid = settings_grid()
    order = rng.permutation(len(grid))
    if tiny:
        order = order[:TINY_SETTINGS]
    cut = round(len(order) * TEST_FRACTION)
    splits = {"test": [grid[i] for i in order[:cut]], "train": [grid[i] for i in order[cut:]]}
    jobs = [(split, w, s) for split in ("train", "test") for s in splits[split] for w in range(len(WORDS))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        clips = list(pool.map(lambda job: synthesise(WORDS[job[1]], *job[2]), jobs))
    arrays: dict[str, tuple[list[np.ndarray], list[int]]] = {"train": ([], []), "test": ([], [])}
    for (split, word, _setting), clip in zip(jobs, clips, strict=True):
        arrays[split][0].append(place(clip, rng))
        arrays[split][1].append(word)
    data = {}
    for split, (waves, words) in arrays.items():
        mix = rng.permutation(len(words))
        data[split] = (
            (np.stack(waves)[mix] * 32767).round().astype(np.int16),
            np.asarray(words, dtype=np.uint8)[mix],
        )
    (train_x, train_y), (test_x, test_y) = data["train"], data["test"]
    write_splits(
        out_dir,
        train={"x": train_x, "y": train_y},
        test_inputs={"x": test_x},
        truth={"y": test_y},
    )
    from trainer.datasets.cards import save_image, spectrogram

    pictures = []
    for word in range(5):
        row = int(np.flatnonzero(train_y == word)[0])
        pictures.append(
            save_image(out_dir, f"spectrogram-{WORDS[word]}.png", spectrogram(train_x[row] / 32768), scale=2)
        )
    return built_dataset(
        slug=SLUG,
        tiny_slug=TINY_SLUG,
        tiny=tiny,
        version=VERSION,
        title="Spoken digits (espeak-ng)",
        source="Synthesised by Skillproof with the Debian package espeak-ng",
        licence="Generated audio; espeak-ng is GPL-3.0, its output is unrestricted",
        description=(
            f"The words zero to nine, {len(train_y):,} training and {len(test_y):,} test clips. Settings "
            f"({len(VOICES)} English voices x {len(VARIANTS)} variants x {len(SPEEDS)} speeds x {len(PITCHES)} "
            f"pitches{', a random subset' if tiny else ''}) are split {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%}, "
            "so test clips use unseen combinations. Each clip is one second of 8 kHz audio, int16, with a "
            "random shift, gain and noise (15 to 30 dB SNR)."
        ),
        stats=split_stats(
            out_dir,
            train_y=train_y,
            test_y=test_y,
            class_names=WORDS,
            pictures=pictures,
            sample_rate=RATE,
            samples_per_clip=int(RATE * SECONDS),
            settings={k: len(v) for k, v in splits.items()},
        ),
    )
