"""Cell bodies compiled into trial programs, and notebook names captured for the workers."""

from __future__ import annotations

import ast
import pickle
import threading
import traceback

import cloudpickle
import numpy as np
import pytest

import autotune_nb as at
from autotune_nb.errors import CaptureError, SearchSpaceError
from autotune_nb.notebook.capture import MMAP_MIN_BYTES, CellTrial, capture
from autotune_nb.notebook.cell import compile_cell
from autotune_nb.notebook.plain_run import DeclarationDefaults

CELL = """\
lr = at.loguniform(1e-4, 1e-1)
hidden = at.choice(SIZES)
model = fit(X, lr=lr, hidden=hidden)
at.report(model["score"] / 2)
model["score"]
"""


def fit(X, lr, hidden):
    return {"score": float(X.sum()) * lr + hidden}


@pytest.fixture
def user_ns():
    return {"at": at, "SIZES": [128, 256], "fit": fit, "X": np.ones(4), "unused": object()}


def test_declarations_become_the_search_space(user_ns):
    program = compile_cell(CELL, user_ns)
    assert list(program.declared) == ["lr", "hidden"]
    assert program.declared["lr"] == at.loguniform(1e-4, 1e-1)
    assert program.declared["hidden"] == at.choice([128, 256])  # evaluated in the notebook namespace


def test_reads_lists_the_notebook_names_the_body_uses(user_ns):
    program = compile_cell(CELL, user_ns)
    assert set(program.reads) == {"fit", "X", "at"}


def test_the_last_expression_is_the_result_with_parameters_bound(user_ns):
    program = compile_cell(CELL, user_ns)
    trial = program.build(dict(user_ns))
    assert trial({"lr": 0.5, "hidden": 128}) == 4 * 0.5 + 128


def test_space_file_parameters_are_bound_as_variables(user_ns):
    program = compile_cell("dropout * 2\n", user_ns, space_params=("dropout",))
    assert program.build(dict(user_ns))({"dropout": 0.25}) == 0.5


def test_tracebacks_point_at_the_cell_lines():
    program = compile_cell("x = at.uniform(0, 1)\ny = 1\n1 / (x - x)\n", {"at": at})
    with pytest.raises(ZeroDivisionError) as info:
        program.build({"at": at})({"x": 0.5})
    frame = traceback.extract_tb(info.tb)[-1]
    assert frame.filename == "<autotune cell>" and frame.lineno == 4  # the magic line is line 1


def test_syntax_errors_point_at_the_cell_lines():
    with pytest.raises(SyntaxError) as info:
        compile_cell("x = at.uniform(0, 1)\ny = (\n", {"at": at})
    assert info.value.lineno == 3  # "(" never closed: body line 2 is cell line 3 (the magic line is line 1)


def test_a_cell_without_parameters_is_refused():
    with pytest.raises(SearchSpaceError, match="the cell declares no parameter"):
        compile_cell("1 + 1\n", {"at": at})


def test_a_bad_declaration_names_the_parameter_and_the_line():
    with pytest.raises(SearchSpaceError, match=r"line 3: lr: .*loguniform needs 0 < low < high"):
        compile_cell("a = 1\nlr = at.loguniform(0, 1)\n", {"at": at})


def test_a_parameter_in_the_cell_and_in_space_is_refused():
    with pytest.raises(SearchSpaceError, match="'lr' is declared in the cell and in --space"):
        compile_cell("lr = at.uniform(0, 1)\n", {"at": at}, space_params=("lr",))


def test_capture_ships_small_values_by_pickle_and_large_arrays_by_memory_map(tmp_path, user_ns):
    big = np.arange(MMAP_MIN_BYTES // 8 + 10, dtype=np.float64)
    layout = capture(("fit", "X", "big"), {**user_ns, "big": big}, str(tmp_path))
    assert layout == {"fit": "pickle", "X": "pickle", "big": "mmap"}


def test_cell_trial_pickles_small_and_runs_in_a_fresh_namespace(tmp_path, user_ns):
    big = np.ones(MMAP_MIN_BYTES // 8 * 4)
    ns = {**user_ns, "X": big}
    program = compile_cell(CELL, ns)
    layout = capture(program.reads, ns, str(tmp_path))
    trial = CellTrial(program, str(tmp_path), layout, "%%autotune\n" + CELL)
    payload = cloudpickle.dumps(trial)
    assert len(payload) < 20_000  # the 4 MB array is not in the pickle
    clone = pickle.loads(payload)
    assert clone({"lr": 0.001, "hidden": 256}) == pytest.approx(big.sum() * 0.001 + 256)
    assert isinstance(clone._function.__globals__["X"], np.memmap)


@pytest.mark.parametrize("value, type_name, fix", [
    (threading.Lock(), "_thread.lock", "create the lock inside the cell"),
    (open(__file__), "_io.TextIOWrapper", "open the file inside the cell"),
])
def test_a_variable_that_cannot_be_sent_is_named_with_its_type_and_a_fix(tmp_path, value, type_name, fix):
    with pytest.raises(CaptureError) as info:
        capture(("handle",), {"handle": value}, str(tmp_path))
    message = str(info.value)
    assert "variable 'handle'" in message and type_name in message and fix in message


def plain_run(source: str, ns: dict) -> dict:
    """Run a cell as IPython does with the extension loaded: through ``DeclarationDefaults``."""
    tree = ast.fix_missing_locations(DeclarationDefaults(ns).visit(ast.parse(source)))
    exec(compile(tree, "<cell>", "exec"), ns)
    return ns


def test_outside_the_magic_declarations_take_their_defaults():
    source = "lr = at.loguniform(1e-4, 1e-2)\nh = at.choice([8, 16], default=16)\nspace = {'x': at.uniform(0, 1)}\n"
    ns = plain_run(source, {"at": at})
    assert ns["lr"] == pytest.approx(1e-3) and ns["h"] == 16
    assert isinstance(ns["space"]["x"], at.space.Distribution)  # declarations inside a dict are untouched


def test_a_distribution_imported_by_name_takes_its_default_in_a_plain_run():
    ns = plain_run("from autotune_nb import uniform\nlr = uniform(0, 1)\n", {})  # the import in the same cell
    assert ns["lr"] == 0.5
    ns = plain_run("h = pick([8, 16], default=16)\n", {"pick": at.choice})  # imported before, under another name
    assert ns["h"] == 16


# The one rule of declarations (declarations.py): %%autotune tunes exactly what a plain run defaults.
SPELLINGS = [
    pytest.param("lr = at.uniform(0, 1)\n", {"at": at}, {"lr"}, id="at"),
    pytest.param("lr = autotune_nb.uniform(0, 1)\n", {}, {"lr"}, id="package-name-unbound"),
    pytest.param("import autotune_nb as tune\nlr = tune.uniform(0, 1)\n", {}, {"lr"}, id="cell-import-as"),
    pytest.param("from autotune_nb import uniform\nlr = uniform(0, 1)\n", {}, {"lr"}, id="cell-from-import"),
    pytest.param("from autotune_nb.space import choice as pick\nh = pick([1, 2])\n", {}, {"h"}, id="cell-alias"),
    pytest.param("lr = uniform(0, 1)\n", {"uniform": at.uniform}, {"lr"}, id="notebook-import"),
    pytest.param("lr = uniform(0, 1)\n", {"uniform": np.random.uniform}, set(), id="another-librarys-uniform"),
    pytest.param("import numpy as at\nlr = at.uniform(0, 1)\n", {"at": at}, set(), id="cell-rebinds-at"),
    pytest.param("lr = uniform(0, 1)\nfrom autotune_nb import uniform\n", {}, set(), id="imported-after-use"),
]


@pytest.mark.parametrize("source, ns, declared", SPELLINGS)
def test_the_magic_and_a_plain_run_agree_on_what_is_a_declaration(source, ns, declared):
    if declared:
        program = compile_cell(source, dict(ns))
        assert set(program.declared) == declared
        assert program.build(dict(ns))({name: 0.25 for name in declared}) is None  # no trailing expression
    else:
        with pytest.raises(SearchSpaceError, match="the cell declares no parameter"):
            compile_cell(source, dict(ns))
    tree = DeclarationDefaults(ns).visit(ast.parse(source))
    defaulted = {node.targets[0].id for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Attribute) and node.value.attr == "default"}
    assert defaulted == declared
