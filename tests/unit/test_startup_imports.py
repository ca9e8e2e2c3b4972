"""Start-up: a study imports only what it uses (benchmarks/startup.py has the seconds).

Each check runs in a fresh interpreter, whose sys.modules holds nothing another test imported.
scipy (~0.5 s for scipy.stats, the start-up design's Sobol sampler), scipy.optimize (the believer's
and Curvefitting's fits) and hyperopt (~1 s) load at their first use, not when a study is made.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import autotune_nb

REPO = pathlib.Path(autotune_nb.__file__).parent.parent
HEAVY = ("scipy", "hyperopt", "autotune_nb.assessors.median_stop", "autotune_nb.assessors.curve_fitting",
         "autotune_nb.tuners._gp")


def loaded_after(script: str) -> list[str]:
    """The HEAVY modules (and their submodules) in sys.modules after ``script`` ran in a fresh process."""
    code = (f"import sys, json\n{script}\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


MAKE_STUDY = ("import autotune_nb as at\n"
              "study = at.Study({{'x': at.uniform(0, 1), 'n': at.choice([1, 2])}}, tuner='TPE', assessor={assessor!r},"
              " storage=None, seed=0)")


def test_a_tpe_study_without_an_assessor_imports_neither_scipy_nor_hyperopt_nor_an_assessor_nor_the_gp():
    assert loaded_after(MAKE_STUDY.format(assessor=None)) == []


def test_a_medianstop_study_imports_that_assessor_only():
    assert loaded_after(MAKE_STUDY.format(assessor="Medianstop")) == ["autotune_nb.assessors.median_stop"]


def test_the_lazy_imports_are_reached_when_tpe_suggests():
    """Start-up design (scipy.stats), Parzen estimators (scipy.special) and, with a trial running, the
    believer's GP (_gp.py: scipy.linalg, scipy.optimize) each import what they need at first use, and suggest."""
    script = MAKE_STUDY.format(assessor=None) + (
        "\nfrom autotune_nb.trial import Trial, TrialState"
        "\ntuner = study.tuner"
        "\nconfigs = tuner.suggest(10)"
        "\nfor number, config in enumerate(configs[:9]):"
        "\n    tuner.observe(Trial(number, config, TrialState.SUCCEEDED, config['x'] * config['n']))"
        "\n[config] = tuner.suggest(1)  # the model, with configs[9] still running"
        "\nassert 0 <= config['x'] <= 1 and config['n'] in (1, 2), config")
    loaded = set(loaded_after(script))
    assert {"scipy.stats", "scipy.special", "scipy.optimize", "autotune_nb.tuners._gp"} <= loaded
    assert "hyperopt" not in loaded
