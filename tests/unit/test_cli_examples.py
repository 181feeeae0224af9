"""Every public function of every custom execution, state and runner module documents a CLI
example.

Salt's ``sys.doc`` shows these docstrings to operators; a function without a "CLI Example:"
block leaves them guessing how to call it.
"""

import importlib.util
import inspect
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULE_FILES = sorted(
    path for folder in ("_modules", "_states", "_runners") for path in (REPO / folder).glob("*.py")
)


def public_functions(path):
    spec = importlib.util.spec_from_file_location(f"cli_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    aliases = getattr(module, "__func_alias__", {})
    for name, func in inspect.getmembers(module, inspect.isfunction):
        if func.__module__ == module.__name__ and not name.startswith("_"):
            yield aliases.get(name, name), func


def test_there_are_modules_to_check():
    names = {f"{path.parent.name}/{path.name}" for path in MODULE_FILES}
    assert {"_modules/wsp_cert.py", "_states/wsp_health.py", "_runners/wsp_fleet.py"} <= names


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_public_function_has_a_cli_example(path):
    functions = dict(public_functions(path))
    assert functions, f"{path.name} has no public function"
    missing = [
        name
        for name, func in functions.items()
        if "CLI Example:" not in (inspect.getdoc(func) or "")
        or ".. code-block:: bash" not in (inspect.getdoc(func) or "")
    ]
    assert not missing, f"{path.parent.name}/{path.name}: no CLI example in {missing}"


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_public_function_has_a_one_line_summary(path):
    for name, func in public_functions(path):
        lines = (inspect.getdoc(func) or "").splitlines()
        assert lines and lines[0].strip(), f"{path.name}: {name} has no summary line"
        assert len(lines) == 1 or not lines[1].strip(), (
            f"{path.name}: {name} summary is not one line"
        )
