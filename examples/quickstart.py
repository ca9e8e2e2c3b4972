"""Quickstart: tune an SVC on scikit-learn's digits data (ships with scikit-learn: no download).

Run: python3 examples/quickstart.py
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

import autotune_nb as at

X, y = load_digits(return_X_y=True)

space = {
    "C": at.loguniform(1e-2, 1e3),
    "gamma": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "kernel": at.choice(["rbf", "sigmoid"]),
}


def trial(params):
    return cross_val_score(SVC(**params), X, y, cv=3).mean()


if __name__ == "__main__":
    study = at.Study(space, tuner="TPE", direction="maximize", seed=0)
    study.run(trial, max_trials=30)
    for t in study.trials:
        print(f"trial {t.number:2d}  {t.state.value:10s}  {t.value if t.value is not None else '-':<8.4}  {dict(t.params)}")
    print(f"\nbest accuracy {study.best_value:.4f} with {study.best_params}")
