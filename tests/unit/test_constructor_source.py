"""The Tune-this-cell form's classArgs read from the registered classes' source (constructor_source.py)."""

import ast
import inspect
import json
import subprocess
import sys

import pytest

from autotune_nb.assessors import assessor_target, available_assessors
from autotune_nb.notebook.constructor_source import constructor_parameters
from autotune_nb.tuners import available_tuners, tuner_target

TARGETS = [tuner_target(name) for name in available_tuners()] + [assessor_target(name) for name in available_assessors()]


def test_describe_imports_no_registered_class():
    script = (
        "import json, sys\n"
        "from autotune_nb.notebook.tune_form import describe\n"
        "from autotune_nb.tuners import available_tuners, tuner_target\n"
        "from autotune_nb.assessors import available_assessors, assessor_target\n"
        "d = describe('%%autotune --tuner TPE')\n"
        "modules = [t.partition(':')[0] for t in map(tuner_target, available_tuners())]\n"
        "modules += [t.partition(':')[0] for t in map(assessor_target, available_assessors())]\n"
        "print(json.dumps({'imported': sorted(set(m for m in modules if m in sys.modules)),\n"
        "                  'hyperopt': 'hyperopt' in sys.modules, 'tpe': d['tuners']['TPE']}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    # Only modules whose __init__ the source does not show are imported (none of the builtins today).
    assert out["imported"] == [] and not out["hyperopt"]
    assert {arg["name"] for arg in out["tpe"]["classArgs"]} >= {"n_startup_jobs"}


@pytest.mark.parametrize("target", TARGETS)
def test_the_source_gives_the_signature_the_class_has(target):
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(__import__(module_name, fromlist=[class_name]), class_name)
    except ImportError as exc:
        pytest.skip(f"{target} does not import here: {exc}")
    signature = inspect.signature(cls.__init__).parameters.values()
    read = constructor_parameters(target)
    assert [p.name for p in read] == [p.name for p in signature]
    for p, expected in zip(read, signature):
        if expected.default is inspect.Parameter.empty:
            assert p.default is None
        else:
            assert eval(compile(ast.parse(p.default, mode="eval"), target, "eval"), vars(sys.modules[module_name])) == expected.default
