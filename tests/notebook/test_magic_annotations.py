"""NNI-annotated code in a ``%%autotune`` cell, on a real ipykernel through nbclient."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.timeout(600)

LOAD = "%load_ext autotune_nb"

HELPERS = (
    "import math\n"
    "def relu(x):\n"
    "    return max(x, 0.0)\n"
    "def sigmoid(x):\n"
    "    return 1 / (1 + math.exp(-x))\n"
)

# NNI trial code as NNI users write it: the annotations are strings, so the cell also runs plainly.
NNI_CODE = '''
class Network:
    def __init__(self):
        """@nni.variable(nni.choice(2, 3, 5), name=self.conv_size)"""
        self.conv_size = 3
        """@nni.variable(nni.uniform(0.1, 0.5), name=self.dropout)"""
        self.dropout = 0.2

    def forward(self, x):
        """@nni.function_choice(relu(x), sigmoid(x), name=activation)"""
        y = relu(x)
        return y * self.conv_size * (1 - self.dropout)

def main():
    net = Network()
    acc = 0.0
    for epoch in range(3):
        """@nni.variable(nni.randint(1, 4), name=batch_size)"""
        batch_size = 2
        acc += net.forward(1.0) / batch_size
        """@nni.report_intermediate_result(acc)"""
    """@nni.report_final_result(acc)"""

if __name__ == "__main__":
    """@nni.get_next_parameter()"""
    main()
'''

SPACE = {
    "self.conv_size": {"_type": "choice", "_value": [2, 3, 5]},
    "self.dropout": {"_type": "uniform", "_value": [0.1, 0.5]},
    "activation": {"_type": "choice", "_value": ["relu(x)", "sigmoid(x)"]},
    "batch_size": {"_type": "randint", "_value": [1, 4]},
}


def test_an_annotated_cell_is_tuned_over_its_annotations(notebook):
    notebook.cell(LOAD)
    notebook.cell(HELPERS)
    plain = notebook.cell(NNI_CODE + "print('plain run ok')\n")
    space = notebook.cell("%%autotune space\n" + NNI_CODE)
    study = notebook.cell("%%autotune --tuner Random --trials 4 --seed 1 --name annotated\n" + NNI_CODE)
    check = notebook.cell(
        "import json, math\n"
        "def expected(p):\n"
        "    act = relu(1.0) if p['activation'] == 'relu(x)' else sigmoid(1.0)\n"
        "    step = act * p['self.conv_size'] * (1 - p['self.dropout']) / p['batch_size']\n"
        "    return [step * (i + 1) for i in range(3)]\n"
        "rows = [(t.state.value, sorted(t.params), all(math.isclose(a, b) for a, b in zip(\n"
        "         [v for _, v in t.intermediates], expected(t.params))), len(t.intermediates),\n"
        "         math.isclose(t.value, expected(t.params)[-1])) for t in _study.trials]\n"
        "print(json.dumps({'space': _study.space.to_nni(), 'rows': rows}))\n"
    )
    notebook.execute()
    assert "plain run ok" in notebook.text(plain)
    assert json.loads(notebook.text(space)) == SPACE
    assert "study 'annotated': 4 trials (4 succeeded)" in notebook.text(study)
    found = json.loads(notebook.text(check))
    assert found["space"] == SPACE
    assert found["rows"] == [["SUCCEEDED", sorted(SPACE), True, 3, True]] * 4


def test_space_shows_declarations_annotations_and_the_space_option_and_runs_nothing(notebook):
    (notebook.folder / "space.json").write_text(json.dumps({"depth": {"_type": "randint", "_value": [1, 4]}}))
    notebook.cell(LOAD)
    shown = notebook.cell(
        "%%autotune space --space space.json\n"
        "lr = at.loguniform(1e-4, 1e-1)\n"
        "'''@nni.variable(nni.choice('sgd', 'adam'), name=optimizer)'''\n"
        "optimizer = 'sgd'\n"
        "raise RuntimeError('the cell must not run')\n"
    )
    bad = notebook.cell(
        "%%autotune space\n"
        "x = 1\n"
        "'''@nni.variable(nni.choice(1, 2), name=y)'''\n"
        "x = 2\n"
    )
    stored = notebook.cell("%autotune list")
    notebook.execute(allow_errors=True)
    assert json.loads(notebook.text(shown)) == {
        "depth": {"_type": "randint", "_value": [1, 4]},
        "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
        "optimizer": {"_type": "choice", "_value": ["sgd", "adam"]},
    }
    assert "cell line 3: @nni.variable(..., name=y) annotates an assignment to x" in notebook.text(bad)
    assert "no study in the store yet" in notebook.text(stored)
