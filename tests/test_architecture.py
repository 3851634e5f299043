"""The apps depend one way: trainer → evidence → tracker. Only the site's wiring (`tracker.project`) imports all.

Walks every import statement (module level and inside functions) of the app packages with `ast`, so a
lazy import inside a function, the usual way round a cycle, counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)
APPS = ("tracker", "evidence", "trainer", "credentials")
# What each app's modules may import from the other apps. The wiring is not an app's domain.
ALLOWED = {
    "credentials": {"trainer", "evidence", "tracker"},
    "trainer": {"evidence", "tracker"},
    "evidence": {"tracker"},
    "tracker": set(),
    "tracker.project": set(APPS),
}


def _layer(path: Path) -> str:
    parts = path.relative_to(REPO).parts
    return "tracker.project" if parts[:2] == ("tracker", "project") else parts[0]


def _imported_apps(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in APPS]
    return found


def cross_app_imports() -> list[tuple[str, str, str]]:
    """(importing layer, imported app, "file:line") for every import that crosses an app boundary."""
    rows = []
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            layer = _layer(path)
            for line, target in _imported_apps(ast.parse(path.read_text(), str(path))):
                if target != layer.split(".")[0] or (layer == "tracker.project" and target != "tracker"):
                    rows.append((layer, target, f"{path.relative_to(REPO)}:{line}"))
    return rows


def test_the_walk_sees_every_app() -> None:
    layers = {layer for layer, _target, _where in cross_app_imports()}
    assert layers >= {"trainer", "evidence", "tracker.project"}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_apps_import_only_downwards(layer: str) -> None:
    wrong = [
        f"{where} imports {target}"
        for source, target, where in cross_app_imports()
        if source == layer and target not in ALLOWED[layer]
    ]
    assert not wrong, f"{layer} may import only {sorted(ALLOWED[layer]) or 'itself'}:\n" + "\n".join(wrong)


def test_a_lazy_import_inside_a_function_is_found() -> None:
    tree = ast.parse("def f():\n    from trainer.services import training_submit\nimport evidence.models as m\n")
    assert sorted(_imported_apps(tree)) == [(2, "trainer"), (3, "evidence")]
