"""Parameter importance: autotune_nb's PED-ANOVA against Optuna's evaluators, in the same run.

Two functions of 6 parameters where only 2 matter (the rest are noise), each sampled at random
1,000 and 10,000 times. For each, the script prints the ranking and the time of
``autotune_nb.views.importance`` and of Optuna's ``PedAnovaImportanceEvaluator`` and
``FanovaImportanceEvaluator`` (a random forest, Hutter et al. 2014; needs scikit-learn), and
whether the two parameters that matter come first.

    python benchmarks/importance.py [--trials 1000 10000] [--fanova-max 1000]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autotune_nb.space import SearchSpace  # noqa: E402
from autotune_nb.trial import Trial, TrialState  # noqa: E402
from autotune_nb.views.importance import importance_of_trials  # noqa: E402

SPACE = SearchSpace({
    "lr": {"_type": "loguniform", "_value": [1e-5, 1.0]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu", "silu"]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
    "units": {"_type": "quniform", "_value": [16, 256, 16]},
    "layers": {"_type": "randint", "_value": [1, 6]},
    "wd": {"_type": "uniform", "_value": [0.0, 1.0]},
})
ACT_PENALTY = {"relu": 1.0, "tanh": 3.0, "gelu": 0.0, "silu": 2.0}
FUNCTIONS = {
    # lr on a log axis and a choice matter
    "lr+act": (("lr", "act"), lambda p: (math.log10(p["lr"]) + 3) ** 2 + ACT_PENALTY[p["act"]]),
    # a linear and an integer parameter matter, with an interaction
    "dropout*layers": (("dropout", "layers"), lambda p: (p["dropout"] - 0.2) ** 2 * 40 * (1 + abs(p["layers"] - 3))),
}


def sample(n: int, fn, seed: int) -> list[Trial]:
    rng = np.random.default_rng(seed)
    trials = []
    for number in range(n):
        params = SPACE.sample(rng)
        trials.append(Trial(number=number, params=params, state=TrialState.SUCCEEDED, value=fn(params)))
    return trials


def optuna_study(trials: list[Trial]):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {
        "lr": optuna.distributions.FloatDistribution(1e-5, 1.0, log=True),
        "act": optuna.distributions.CategoricalDistribution(list(ACT_PENALTY)),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.5),
        "units": optuna.distributions.FloatDistribution(16, 256, step=16),
        "layers": optuna.distributions.IntDistribution(1, 5),
        "wd": optuna.distributions.FloatDistribution(0.0, 1.0),
    }
    study = optuna.create_study(direction="minimize")
    study.add_trials([optuna.trial.create_trial(params=dict(t.params), distributions=dists, value=t.value)
                      for t in trials])
    return study


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--fanova-max", type=int, default=1000,
                        help="skip fANOVA above this many trials (minutes at 10,000 on 2 cores)")
    args = parser.parse_args()
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    print(f"{'function':15} {'trials':>6} {'method':22} {'seconds':>8} {'top 2 right':>11}  ranking (score)")
    for name, (important, fn) in FUNCTIONS.items():
        for n in args.trials:
            trials = sample(n, fn, seed=n)
            study = optuna_study(trials)
            methods = [
                ("autotune_nb PED-ANOVA", lambda: importance_of_trials(trials, "minimize", SPACE).as_dict()),
                ("optuna PED-ANOVA", lambda: optuna.importance.get_param_importances(
                    study, evaluator=PedAnovaImportanceEvaluator())),
            ]
            if n <= args.fanova_max:
                methods.append(("optuna fANOVA", lambda: optuna.importance.get_param_importances(
                    study, evaluator=FanovaImportanceEvaluator(seed=0))))
            for method, compute in methods:
                scores, seconds = timed(compute)
                order = sorted(scores, key=lambda k: -scores[k])
                right = set(order[:2]) == set(important)
                ranking = " ".join(f"{k}({scores[k]:.2f})" for k in order)
                print(f"{name:15} {n:>6} {method:22} {seconds:>8.3f} {str(right):>11}  {ranking}", flush=True)


if __name__ == "__main__":
    main()
