"""House rules a machine keeps: modules stay small, and the repository cites only its own
documents (README.md and docs/)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "valuemodel"
MAX_LINES = 500
# Spelled in two parts so that this file does not cite them itself.
OUTSIDE_DOCUMENTS = ("CONTRACT" + ".md", "DOMAIN" + ".md")


def _lines(path: Path) -> int:
    """Lines as ``wc -l`` counts them."""
    return path.read_bytes().count(b"\n")


def _tracked_text_files() -> list[Path]:
    """The files git tracks, except binary ones and links to folders."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    paths = [ROOT / name for name in listed.decode().split("\0") if name]
    return [p for p in paths if p.is_file() and b"\0" not in p.read_bytes()[:8000]]


def test_no_module_of_the_package_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): _lines(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if _lines(path) > MAX_LINES
    }
    assert not long, f"split these modules by concept (at most {MAX_LINES} lines): {long}"


def test_no_tracked_file_cites_documents_from_outside_the_repository():
    cited = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _tracked_text_files()
        for name in OUTSIDE_DOCUMENTS
        if name in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not cited, f"cite README.md or docs/ instead: {cited}"
