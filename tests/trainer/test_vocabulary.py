"""One vocabulary of error kinds: the harness's, the pipeline's and the stored ones agree.

The harness runs inside the sandbox and cannot import Django, so it keeps its kinds as plain strings;
these tests read the sources with `ast` (nothing is imported from the harness) and hold every kind
the platform can store to `ErrorKind`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

from trainer.models import HARNESS_KINDS, ErrorKind, TrainingRun

TRAINER = Path(settings.BASE_DIR) / "trainer"


def _tree(name: str) -> ast.Module:
    path = TRAINER / name
    return ast.parse(path.read_text(), str(path))


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    def called(node: ast.Call) -> str:
        return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")

    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and called(node) == name]


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _harness_error_kinds() -> set[str]:
    """The ERROR_KINDS constant of harness.py, a frozenset of string literals."""
    for node in _tree("harness/harness.py").body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["ERROR_KINDS"]:
            assert isinstance(node.value, ast.Call) and len(node.value.args) == 1, "ERROR_KINDS = frozenset({...})"
            return set(ast.literal_eval(node.value.args[0]))
    raise AssertionError("harness.py has no module-level ERROR_KINDS")


def _stored_literals() -> dict[str, str]:
    """Every kind written as a string literal where the platform raises or stores one: kind -> where."""
    found: dict[str, str] = {}
    for name, function, position in [
        ("harness/harness.py", "LearnerError", 0),
        ("pipeline.py", "LearnerFailure", 0),
        ("services.py", "_finish_failed", 1),
    ]:
        for call in _calls(_tree(name), function):
            kind = _literal(call.args[position]) if len(call.args) > position else None
            if kind is not None:
                found[kind] = f"{name}:{call.lineno}"
    scoring = _tree("scoring.py")
    for call in _calls(scoring, "ScoreError"):
        for keyword in call.keywords:
            if keyword.arg == "kind" and (kind := _literal(keyword.value)) is not None:
                found[kind] = f"scoring.py:{call.lineno}"
    for node in ast.walk(scoring):
        if isinstance(node, ast.ClassDef) and node.name == "ScoreError":
            init = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
            names = [a.arg for a in init.args.args]
            defaults = dict(zip(names[len(names) - len(init.args.defaults) :], init.args.defaults, strict=True))
            if (kind := _literal(defaults.get("kind"))) is not None:
                found[kind] = f"scoring.py:{init.lineno} (default)"
    return found


def test_the_harness_kinds_are_the_ones_the_platform_believes() -> None:
    assert _harness_error_kinds() == set(HARNESS_KINDS)


def test_the_harness_raises_only_kinds_it_declares() -> None:
    raised = {kind for kind, where in _stored_literals().items() if where.startswith("harness/")}
    assert raised, "no LearnerError(kind, ...) found in harness.py: has the call changed shape?"
    assert raised <= _harness_error_kinds(), raised - _harness_error_kinds()


def test_every_kind_the_platform_stores_is_in_the_vocabulary() -> None:
    found = _stored_literals()
    assert {"bad_predictions", "learner_error", "syntax_error"} <= set(found), found  # the walk sees each file
    unknown = {kind: where for kind, where in found.items() if kind not in ErrorKind.values}
    assert not unknown, f"add these to trainer.models.ErrorKind: {unknown}"


@pytest.mark.parametrize("kind", ErrorKind.values)
def test_every_kind_has_a_label_for_people(kind: str) -> None:
    label = TrainingRun(error_kind=kind).get_error_kind_display()
    assert label and label != kind, label


def test_kinds_fit_the_error_kind_field() -> None:
    field = TrainingRun._meta.get_field("error_kind")
    assert max(len(kind) for kind in ErrorKind.values) <= (field.max_length or 0)
    assert field.choices == ErrorKind.choices
