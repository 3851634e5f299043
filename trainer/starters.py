"""Starter downloads: the task's starter .py, a notebook that runs in Google Colab as is, and the starter .R of a
task done in R."""

from __future__ import annotations

import pprint
import string

import nbformat

from trainer.catalogue import CATALOGUE_DIR
from trainer.models import TaskSpec


def _folder(task: TaskSpec) -> str:
    from trainer.catalogue import TASKS

    return next((t.folder for t in TASKS if t.slug == task.slug), task.slug)


GENERIC_STARTER = '''"""Starter: build_model(spec) returns a Keras model (spec: input_shape, num_classes, budgets)."""

import keras
from keras import layers


def build_model(spec):
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(spec["input_shape"])),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(spec["num_classes"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''


def starter_py(task: TaskSpec) -> str:
    """The task's own starter, or a small working model for tasks an admin created without one."""
    path = CATALOGUE_DIR / _folder(task) / "starter.py"
    return path.read_text() if path.exists() else GENERIC_STARTER


def starter_r(task: TaskSpec) -> str | None:
    """The task's starter R script, if it is done in R and ships one."""
    path = CATALOGUE_DIR / _folder(task) / "starter.R"
    return path.read_text() if task.takes_r and path.exists() else None


# The try-out cell. load_inputs is the notebook's copy of what the sandbox harness does to the data, so a
# local try-out sees the same arrays the server's training does.
TRY_OUT = string.Template(
    """if __name__ == "__main__":
    import io
    import os

    import numpy as np
    import requests

    from submission import *  # noqa: F403 - build_model, and train if you defined it

    TOKEN = skillproof_token()

    def fetch(name):
        url = "$data_url" + name + "/"
        response = requests.get(url, headers={"Authorization": f"Token {TOKEN}"})
        response.raise_for_status()
        return response.content

    def load_inputs(data, spec):
        names = spec.get("inputs") or ["x"]
        dtype = spec.get("x_dtype", "float32")
        if len(names) > 1:
            return {name: data[name].astype(dtype) for name in names}
        x = data[names[0]].astype(dtype)
        if "x_scale" in spec:
            x = x * spec["x_scale"]
        if spec.get("input_shape") and x.shape[1:] != tuple(spec["input_shape"]):
            x = x.reshape((len(x), *spec["input_shape"]))
        return x

    def part(x, rows):
        return {name: array[rows] for name, array in x.items()} if isinstance(x, dict) else x[rows]

    data = np.load(io.BytesIO(fetch("train.npz")))$base
    x, y = load_inputs(data, SPEC), data["y"]
    cut = int(len(y) * 0.9)
    split = {"x_train": part(x, slice(None, cut)), "y_train": y[:cut],
             "x_val": part(x, slice(cut, None)), "y_val": y[cut:]}
    trial = dict(SPEC, epochs=1)
    model = build_model(trial)
    if "train" in globals():
        model = train(model, split, trial) or model
    else:
        model.fit(split["x_train"], split["y_train"], validation_data=(split["x_val"], split["y_val"]), epochs=1)"""
)
# The token is never written into the notebook (notebooks get shared, uploaded and committed): Colab keeps it
# among its secrets, elsewhere it comes from the environment or is typed in. A function, called only under the
# `__main__` guards, so that the server, which imports the notebook's code, never asks for it.
AUTH_HELPER = '''
def skillproof_token():
    """Your Skillproof API token (make one on the site's API tokens page).

    In Colab: the secret SKILLPROOF_TOKEN (key icon in the left bar; allow this notebook to read it).
    Elsewhere: the environment variable SKILLPROOF_TOKEN, or typed in when asked.
    """
    import os

    try:
        from google.colab import userdata

        return userdata.get("SKILLPROOF_TOKEN")
    except Exception:  # not in Colab, or the secret is missing or not shared with this notebook
        pass
    if os.environ.get("SKILLPROOF_TOKEN"):
        return os.environ["SKILLPROOF_TOKEN"]
    import getpass

    return getpass.getpass("Skillproof API token: ")
'''
FETCH_BASE = """
    os.makedirs("data", exist_ok=True)
    with open(SPEC["base_model"], "wb") as handle:
        handle.write(fetch("base.keras"))"""


def starter_notebook(task: TaskSpec, *, site_url: str) -> str:
    """A notebook that runs in Google Colab as is (nothing installed beyond what Colab has).

    The model cell is written to submission.py with %%writefile, so the same file is tried locally and sent
    to the API. Uploaded to Skillproof as a notebook instead, it still works: the server drops magic lines,
    and the try-out and submission cells are guarded by `if __name__ == "__main__"` (the server imports the
    code as a module named `submission`).
    """
    spec = pprint.pformat(task.learner_spec(), sort_dicts=False)
    data_url = f"{site_url}/api/tasks/{task.slug}/data/"
    base = FETCH_BASE if task.spec.get("base_model") else ""
    cells = [
        nbformat.v4.new_markdown_cell(f"# {task.title}\n\n{task.brief}"),
        nbformat.v4.new_code_cell(
            "import keras\nprint('Keras', keras.__version__, 'backend', keras.backend.backend())\n\n"
            f'SITE = "{site_url}"\n'
            f"SPEC = {spec}\n\n\n" + AUTH_HELPER.strip()
        ),
        nbformat.v4.new_markdown_cell(
            "## Your model\nThe server calls `build_model(spec)` (and `train(model, data, spec)` if you define it). "
            "Running this cell writes it to `submission.py`, the file the last cell sends."
        ),
        nbformat.v4.new_code_cell("%%writefile submission.py\n" + starter_py(task)),
        nbformat.v4.new_markdown_cell(
            "## Try it here (optional)\nDownloads the task's training split from Skillproof (the test labels stay "
            "on the server) and trains briefly, preparing the data exactly as the server does."
        ),
        nbformat.v4.new_code_cell(TRY_OUT.substitute(data_url=data_url, base=base)),
        nbformat.v4.new_markdown_cell(
            "## Submit to Skillproof\nSends `submission.py` as an attempt and prints the link to watch it live: the "
            "server trains it in a sandbox and scores it on labels you never see. Submit as often as your quota "
            "allows; with `file_if_passes` a passing attempt goes to your mentor as evidence by itself.\n\n"
            "It needs an API token (the site's *API tokens* page), never pasted into this notebook: in Colab add it "
            "as the secret `SKILLPROOF_TOKEN` (key icon on the left); elsewhere set the environment variable "
            "`SKILLPROOF_TOKEN`, or type it in when asked."
        ),
        nbformat.v4.new_code_cell(
            'if __name__ == "__main__":\n'
            "    import requests\n"
            "    TOKEN = skillproof_token()\n"
            "    with open('submission.py', 'rb') as handle:\n"
            "        response = requests.post(\n"
            f'            f"{{SITE}}/api/tasks/{task.slug}/runs/",\n'
            '            headers={"Authorization": f"Token {TOKEN}"},\n'
            '            data={"file_if_passes": "true"},\n'
            '            files={"file": ("submission.py", handle.read())},\n'
            "        )\n"
            "    print(response.status_code, response.json())\n"
            '    if response.ok:\n        print("Watch it:", f"{SITE}/runs/{response.json()[\'id\']}/")'
        ),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["colab"] = {"provenance": []}
    return nbformat.writes(notebook)
