"""Starter downloads: the task's starter .py, and a notebook that runs in Google Colab as is."""

from __future__ import annotations

import json

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


def starter_notebook(task: TaskSpec, *, site_url: str) -> str:
    """Cells: the brief, build_model, a local try-out and the API submission, both guarded by
    `if __name__ == "__main__"` so that they run in Colab but not when the server trains the notebook."""
    spec = json.dumps(task.learner_spec(), indent=4)
    cells = [
        nbformat.v4.new_markdown_cell(f"# {task.title}\n\n{task.brief}"),
        nbformat.v4.new_code_cell(
            f"import keras\nprint('Keras', keras.__version__, 'backend', keras.backend.backend())\n\nSPEC = {spec}"
        ),
        nbformat.v4.new_markdown_cell("## Your model\nThe server calls `build_model(spec)`; keep it self-contained."),
        nbformat.v4.new_code_cell(starter_py(task).split('"""', 2)[-1].strip()),
        nbformat.v4.new_markdown_cell(
            "## Try it here (optional)\nIn Colab this downloads Fashion-MNIST from Keras' servers. "
            "On Skillproof this cell is skipped: the server trains on its own copy and scores on labels you never see."
        ),
        nbformat.v4.new_code_cell(
            'if __name__ == "__main__":\n'
            "    (x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()\n"
            "    x, xt = x[..., None] / 255.0, xt[..., None] / 255.0\n"
            "    model = build_model(SPEC)\n"
            "    model.fit(x[:10000], y[:10000], epochs=1, validation_split=0.1)\n"
            "    print(model.evaluate(xt, yt, verbose=0))"
        ),
        nbformat.v4.new_markdown_cell(
            "## Submit to Skillproof\nGet a token once with your username and password "
            f"(`POST {site_url}/api/auth/token/`), paste it below and run the cell. "
            "It sends this notebook's `build_model` as a `.py` file and prints the link to watch the run live."
        ),
        nbformat.v4.new_code_cell(
            'if __name__ == "__main__":\n'
            "    import inspect, requests\n"
            f'    SITE = "{site_url}"\n'
            '    TOKEN = ""  # from POST /api/auth/token/\n'
            '    source = "import keras\\nfrom keras import layers\\n\\n" + inspect.getsource(build_model)\n'
            "    response = requests.post(\n"
            '        f"{SITE}/api/evidence/",\n'
            '        headers={"Authorization": f"Token {TOKEN}"},\n'
            f'        data={{"claim": {task.claim_id}, "kind": "training", "task": "{task.slug}"}},\n'
            '        files={"file": ("submission.py", source.encode())},\n'
            "    )\n"
            "    print(response.status_code, response.json())\n"
            '    if response.ok:\n        print("Watch it:", f"{SITE}/runs/{response.json()[\'run\']}/")'
        ),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["colab"] = {"provenance": []}
    return nbformat.writes(notebook)
