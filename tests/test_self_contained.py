"""The repository stands alone: a fresh clone anywhere runs its tests, with nothing read from beside it."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CASE_SCHEMA_FILE, FIXTURES, REPO, SEED_FILE

# Byte-for-byte copies of the documents the product was built against (tests/fixtures/README.md names their
# sources). The hashes catch an editor or formatter that "tidies" them: the seed round-trip compares bytes.
FIXTURE_SHA256 = {
    "seeds/000_b28b1c18b26156cf.txt": "9a1021dd0ee38777489524a21ca5e5dcfc760a2b636c7f2123c76bd7bd0780d3",
    "schemas/case-v1p1-cfpackage-schema.json": "5ce7a01f7b5807fc4d518a731554e8a9c231aabc70ffea8c2ede273d20ca35d7",
    "schemas/ob-v3p0-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    "schemas/ob-v3p0-example-basicOpenBadgeCredential.json": (
        "02290710e7c4c1cdce4296fef4e2fa230824efef0fabf6774c084107e3afdcc0"
    ),
    "schemas/ob-v3p0-example-fullOpenBadge.json": "4b131cea18b47a202270e00962a0361e8e81864ba80e3ac8aa6b2a6fa6bfb29c",
}

# Ways code has reached out of the checkout: a sibling `shared/` folder, or the parent of the repository root.
OUTSIDE = re.compile(
    r"\.\./shared"
    r"|parent\s*/\s*[\"']shared\b"
    r"|\b(?:REPO|REPO_ROOT|ROOT|BASE_DIR)\.parent\b"
    r"|\bBASE_DIR\s*/\s*[\"']\.\."
    r"|parents\[\d+\]\.parent\b"
)
# Code, build and CI files; executables without a suffix live in these folders.
CODE_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml"}
CODE_NAMES = {"Makefile", "Dockerfile"}
CODE_FOLDERS = {".ci", "bench", "scripts", "docker"}


def code_files() -> list[Path]:
    """Tracked files and new ones not yet added (but not ignored ones such as .venv/)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    paths = [Path(name) for name in listed]
    return [
        path
        for path in paths
        if (path.suffix in CODE_SUFFIXES or path.name in CODE_NAMES or path.parts[0] in CODE_FOLDERS)
        and (REPO / path).is_file()
        and path != Path(__file__).relative_to(REPO)
    ]


def test_no_code_reads_from_outside_the_repository() -> None:
    files = code_files()
    assert Path("tests/conftest.py") in files and Path("Makefile") in files  # the listing works
    offending = [
        f"{path}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate((REPO / path).read_text(errors="replace").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert offending == [], "\n".join(offending)


@pytest.mark.parametrize(
    "line",
    [
        'SHARED = REPO.parent / "shared"',
        'Path(__file__).resolve().parents[2].parent / "shared" / "schemas"',
        "cp ../shared/seeds/*.txt tests/",
        'settings.BASE_DIR / ".." / "seeds"',
    ],
)
def test_the_check_recognises_reaching_outside(line: str) -> None:
    assert OUTSIDE.search(line)


@pytest.mark.parametrize(
    "line",
    [
        'FIXTURES = REPO / "tests" / "fixtures"',
        'SHARED_DIR = "shared"',
        'Path(__file__).resolve().parents[2] / "tracker"',
        'SimpleUploadedFile("../../report.pdf", b"%PDF-1.4")',
    ],
)
def test_the_check_lets_paths_inside_the_repository_pass(line: str) -> None:
    assert not OUTSIDE.search(line)


@pytest.mark.parametrize("name", sorted(FIXTURE_SHA256))
def test_fixture_is_an_unchanged_copy(name: str) -> None:
    path = FIXTURES / name
    assert path.is_file(), f"{path} is missing; tests/fixtures/README.md says where it comes from"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == FIXTURE_SHA256[name]


def test_the_suite_uses_the_fixtures() -> None:
    assert SEED_FILE.is_relative_to(FIXTURES) and CASE_SCHEMA_FILE.is_relative_to(FIXTURES)
    assert json.loads(CASE_SCHEMA_FILE.read_text(encoding="utf-8"))["title"]
