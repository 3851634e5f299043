"""Hostile: write the platform's own files in out/ with values no database column or page can hold."""

import json
import os

VARIANT = "@VARIANT@"
OUT = "/job/out"
PROGRESS = {
    "epoch-huge": '{"epoch": 1e300, "loss": 0.5}',
    "epoch-nan": '{"epoch": NaN, "loss": NaN}',
    "huge-strings": json.dumps({"epoch": "9" * 100_000, "k" * 100_000: "v" * 300_000}),
    "deep": "[" * 100_000,  # nesting deep enough to exhaust a JSON parser's recursion
}


def write(name, text):
    with open(os.path.join(OUT, name), "a") as handle:
        handle.write(text + "\n")


print(f"forged {VARIANT}", flush=True)
if VARIANT in PROGRESS:
    write("progress.jsonl", PROGRESS[VARIANT])
elif VARIANT == "result-deep":
    write("result.json", "[" * 100_000)
    os._exit(3)
elif VARIANT == "result-surrogate":  # a lone surrogate and a NUL: text no database stores
    write("result.json", json.dumps({"ok": False, "error_kind": "learner_error", "message": "bad \ud800 text \x00"}))
    os._exit(1)
elif VARIANT == "metrics":
    write("extra_metrics.json", json.dumps({"accuracy": 1.0, "macro_f1": 1.0, "base_weights_reused": 1.0}))


def build_model(spec):
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            keras.layers.Flatten(),
            keras.layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )


if VARIANT == "metrics":

    def train(model, data, spec):
        return model  # untrained: its real accuracy is near chance, whatever extra_metrics.json claims
