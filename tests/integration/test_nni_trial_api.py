"""NNI's trial API in trials run by ``Study.run``, in worker processes and inline: ``import nni`` is
``autotune_nb.nni_api`` while a trial runs, and the real package (or nothing) everywhere else."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import autotune_nb as at
from autotune_nb import TrialState
from autotune_nb.testing import scripted  # noqa: F401  (registers the "Scripted" tuner)

pytestmark = pytest.mark.timeout(120)

SPACE = {"mode": at.choice(["plain", "low", "twice"]), "x": at.uniform(0, 1)}
CONFIGS = [{"mode": "plain", "x": 0.5}, {"mode": "plain", "x": 0.7}, {"mode": "low", "x": 0.1},
           {"mode": "twice", "x": 0.2}]


def nni_trial(params):
    import nni

    got = nni.get_next_parameter()
    if got["mode"] == "twice":
        nni.report_final_result(1.0)
        nni.report_final_result(2.0)
    value = 0.0 if got["mode"] == "low" else got["x"]
    for _ in range(50 if got["mode"] == "low" else 3):
        nni.report_intermediate_result({"default": value, "other": 1})
    nni.report_final_result({
        "default": got["x"] * 10, "same_params": got == params, "fresh": got is not params,
        "experiment": nni.get_experiment_id(), "trial_id": nni.get_trial_id(),
        "sequence": nni.get_sequence_id(), "module": nni.__name__,
    })
    return -1.0  # the reported final result wins


def run_study(name, executor):
    study = at.Study(SPACE, tuner="Scripted", tuner_args={"configs": CONFIGS}, name=name,
                     assessor="Medianstop", assessor_args={"start_step": 1})
    return study.run(nni_trial, max_trials=len(CONFIGS), executor=executor)


@pytest.mark.parametrize("executor", ["local", "inline"])
def test_nni_calls_in_trials(executor):
    study = run_study(f"nni-{executor}", executor)
    first, second, low, twice = study.trials

    for trial, x in ((first, 0.5), (second, 0.7)):
        assert trial.state == TrialState.SUCCEEDED, trial.error
        assert trial.value == pytest.approx(x * 10)  # report_final_result over the return value
        assert trial.intermediates == ((1, x), (2, x), (3, x))
        assert trial.metrics["same_params"] and trial.metrics["fresh"]
        assert trial.metrics["module"] == "autotune_nb.nni_api"
        assert trial.metrics["experiment"] == f"nni-{executor}"
        assert trial.metrics["trial_id"] == str(trial.number)
        assert trial.metrics["sequence"] == trial.number
    assert first.metrics["trial_id"] != second.metrics["trial_id"]

    assert low.state == TrialState.EARLY_STOPPED  # intermediate results reach the assessor
    assert low.intermediates == ((1, 0.0),)

    assert twice.state == TrialState.FAILED
    assert f"trial {twice.number}: nni.report_final_result was called a second time" in twice.error

    with pytest.raises(ImportError):  # nni is not installed here: outside trials there is none
        import nni  # noqa: F401
    assert "nni" not in sys.modules


def test_a_bad_final_result_fails_the_trial_at_the_call():
    def trial(params):
        import nni
        nni.report_final_result({"accuracy": 0.9})
        return 1.0

    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random").run(trial, max_trials=1, executor="inline")
    (failed,) = study.trials
    assert failed.state == TrialState.FAILED and "without a 'default' key" in failed.error


FAKE_NNI = '''
"""Stands for the real, installed nni package."""
IS_FAKE_REAL_NNI = True
def get_next_parameter():
    return "the real package's"
'''


@pytest.fixture
def fake_real_nni(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    (folder / "nni").mkdir(parents=True)
    (folder / "nni" / "__init__.py").write_text(FAKE_NNI)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", str(folder))
    monkeypatch.delitem(sys.modules, "nni", raising=False)
    yield folder
    sys.modules.pop("nni", None)


def test_with_nni_installed_trials_see_the_shim_and_the_rest_the_package(fake_real_nni):
    import nni as before
    assert before.IS_FAKE_REAL_NNI
    seen = []

    def trial(params):
        import nni
        seen.append(nni)
        seen.append(before.get_next_parameter())  # a reference taken outside keeps the real package
        return nni.get_next_parameter()["x"]

    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random").run(trial, max_trials=2, executor="inline")
    assert [t.state for t in study.trials] == [TrialState.SUCCEEDED] * 2
    assert seen[0].__name__ == "autotune_nb.nni_api" and seen[1] == "the real package's"
    assert sys.modules["nni"] is before  # restored exactly
    import nni as after
    assert after is before

    # In worker processes: the trial sees the shim although the package is installed there.
    def worker_trial(params):
        from importlib.machinery import PathFinder
        import nni
        assert nni.__name__ == "autotune_nb.nni_api"
        real_file = PathFinder.find_spec("nni").origin  # the real one is installed in the worker
        return {"default": params["x"], "real": real_file}

    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random").run(worker_trial, max_trials=2)
    assert [t.state for t in study.trials] == [TrialState.SUCCEEDED] * 2, study.trials[0].error
    assert all(t.metrics["real"].startswith(str(fake_real_nni)) for t in study.trials)


def test_a_kept_reference_serves_the_running_trial_or_standalone_mode():
    kept = {}

    def trial(params):
        import nni
        kept.setdefault("nni", nni)
        return {"default": params["x"], "trial": kept["nni"].get_trial_id()}

    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", name="kept").run(trial, max_trials=2, executor="inline")
    assert [t.metrics["trial"] for t in study.trials] == [str(t.number) for t in study.trials]
    nni = kept["nni"]
    assert (nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id()) == ("STANDALONE", "STANDALONE", 0)


def test_standalone_mode_outside_a_study():
    code = textwrap.dedent("""
        import warnings
        from autotune_nb import nni_api as nni
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            params = nni.get_next_parameter()
        assert params == {} and caught and issubclass(caught[0].category, RuntimeWarning)
        nni.report_intermediate_result(0.5)
        nni.report_intermediate_result({"default": 0.6})
        nni.report_final_result(0.9)
        print(nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
        try:
            import nni as real
        except ImportError:
            print("no real nni")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["Intermediate result: 0.5  (Index 0)",
                                "Intermediate result: {'default': 0.6}  (Index 1)",
                                "Final result: 0.9", "STANDALONE STANDALONE 0", "no real nni"]
