"""NNI trial code in a ``%%autotune`` cell (``import nni`` with ``--space VAR``), and the same code run
plainly: NNI's standalone mode."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(600)

LOAD = "%load_ext autotune_nb"
SPACE = ('space = {"lr": {"_type": "choice", "_value": [0.1, 0.2, 0.3]},\n'
         '         "depth": {"_type": "randint", "_value": [1, 4]}}\n')
BODY = (
    "params = nni.get_next_parameter()\n"
    "lr, depth = params.get('lr', 0.1), params.get('depth', 2)\n"
    "for epoch in range(1, 3):\n"
    "    nni.report_intermediate_result(lr * epoch)\n"
    "nni.report_final_result({'default': lr * depth, 'trial': nni.get_trial_id(),\n"
    "                         'experiment': nni.get_experiment_id(), 'sequence': nni.get_sequence_id()})\n"
)


def test_nni_trial_code_in_a_cell_and_run_plainly(notebook):
    notebook.cell(LOAD)
    notebook.cell(SPACE)
    study_cell = notebook.cell(
        "%%autotune --space space --tuner GridSearch --trials 20 --name nni_cell --out nni_study\n"
        "import nni\n" + BODY
    )
    check = notebook.cell(
        "trials = nni_study.trials\n"
        "print(len(trials), round(nni_study.best_value, 6), sorted(nni_study.best_params.items()))\n"
        "print(all(t.metrics['experiment'] == 'nni_cell' and t.metrics['trial'] == str(t.number)\n"
        "          and t.metrics['sequence'] == t.number for t in trials))\n"
        "print(all(t.intermediates == ((1, t.params['lr']), (2, 2 * t.params['lr'])) for t in trials))\n"
        "try:\n"
        "    import nni\n"
        "except ImportError:\n"
        "    print('no nni outside trials')\n"
    )
    plain = notebook.cell("from autotune_nb import nni_api as nni\n" + BODY + "print(params)\n")
    notebook.execute()
    assert "study 'nni_cell': 9 trials (9 succeeded)" in notebook.text(study_cell), notebook.text(study_cell)
    assert notebook.text(check).splitlines() == [
        "9 0.9 [('depth', 3), ('lr', 0.3)]", "True", "True", "no nni outside trials"]
    out = notebook.text(plain)
    assert "Intermediate result: 0.1  (Index 0)\nIntermediate result: 0.2  (Index 1)\n" in out
    assert "Final result: {'default': 0.2, 'trial': 'STANDALONE', 'experiment': 'STANDALONE', 'sequence': 0}" in out
    assert "RuntimeWarning: Running NNI code without a study (NNI's standalone mode)" in out
    assert "\n{}\n" in out  # get_next_parameter's {}


FAKE_NNI = '''
def get_next_parameter():
    return {"lr": 0.5, "depth": 1}
def report_intermediate_result(metric):
    print("real intermediate", metric)
def report_final_result(metric):
    print("real final", metric["default"])
def get_trial_id():
    return "REAL"
def get_experiment_id():
    return "REAL"
def get_sequence_id():
    return -1
'''


def test_with_nni_installed_the_cell_runs_plainly_on_it_and_as_a_study_on_the_shim(notebook):
    (notebook.folder / "nni").mkdir()
    (notebook.folder / "nni" / "__init__.py").write_text(FAKE_NNI)  # stands for the installed package
    notebook.cell(LOAD)
    notebook.cell(SPACE)
    plain_before = notebook.cell("import nni\n" + BODY)
    notebook.cell(
        "%%autotune --space space --tuner GridSearch --trials 20 --name nni_real --out nni_study\n"
        "import nni\n" + BODY
    )
    check = notebook.cell(
        "print(len(nni_study.trials), all(t.metrics['experiment'] == 'nni_real' for t in nni_study.trials))\n"
        "import nni\n"
        "print(nni.get_trial_id())\n"
    )
    notebook.execute()
    assert notebook.text(plain_before) == "real intermediate 0.5\nreal intermediate 1.0\nreal final 0.5\n"
    assert notebook.text(check).splitlines() == ["9 True", "REAL"]
