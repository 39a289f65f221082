"""The notebooks as stored: no outputs, nothing reusable defined, figures from valuemodel.plots.

Executing them is nbmake's job (``pytest --nbmake notebooks/``, part of ``make test``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = [
    "01-features.ipynb",
    "02-train-evaluate.ipynb",
    "03-explain-scores.ipynb",
    "04-uplift.ipynb",
]


def _code(name: str) -> list[str]:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def _python(source: str) -> str:
    """Cell source without IPython magics (``%matplotlib inline``)."""
    return "\n".join(line for line in source.splitlines() if not line.startswith("%"))


def test_the_notebooks_are_the_documented_four():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_valid_and_stored_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("name", NAMES)
def test_notebook_defines_nothing_reusable(name):
    for source in _code(name):
        tree = ast.parse(_python(source))
        definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        defined = [node.name for node in ast.walk(tree) if isinstance(node, definitions)]
        assert defined == [], f"{name} defines {defined}: move it to src/valuemodel"
        assert not any(isinstance(node, ast.Lambda) for node in ast.walk(tree)), name


@pytest.mark.parametrize("name", NAMES)
def test_notebook_draws_only_with_valuemodel_plots(name):
    code = "\n".join(_code(name))
    assert "from valuemodel import explain, plots" in code
    assert "pyplot" not in code and "plt." not in code and "shap.plots" not in code
    assert "explain.ensure_demo_workspace()" in code
