"""Early stopping on a learning-curve benchmark: epochs saved, and what it costs in best final value.

The benchmark: sklearn's ``SGDClassifier`` trained on the digits data (1,797 images, scaled, 70/30
split, fixed) with ``partial_fit``, one epoch per report, ``--epochs`` (20) epochs; each epoch
reports the validation accuracy with ``at.report`` and the trial's result is the accuracy after the
last epoch (maximized). The space: ``alpha`` and ``eta0`` log-uniform, the loss (hinge, log_loss,
modified_huber) and the learning-rate schedule (constant, optimal, invscaling, adaptive). A trial
is deterministic given its configuration (the model and the epoch shuffles have fixed seeds).

For each seed, ``--trials`` trials with the Random tuner are run three times: with no assessor,
with Medianstop and with Curvefitting. Random search's configurations do not depend on the results,
so the three runs see the same configurations (checked: the script says when they do not) and
differ only by the trials the assessor cut short. Trials run in this process, one at a time
(``executor="inline"``), so each assessor decision sees the same completed trials on every run
(with concurrent trials it would depend on timing).

The assessors run with the settings of NNI's documentation examples, not tuned to this benchmark:
Medianstop ``start_step=5``, Curvefitting ``epoch_num=20, start_step=6, threshold=0.95, gap=1``.

Printed per seed and in total: epochs run, % saved against no assessor, best final value with and
without, and the relative loss ``(best without - best with) / best without``.
Target: >= 40% of the epochs saved, best within 0.5%.

    python benchmarks/early_stopping.py [--seeds 5] [--trials 50] [--epochs 20]
                                        [--median-start 5] [--curve-start 6] [--curve-threshold 0.95]
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
import warnings
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autotune_nb as at  # noqa: E402

SPACE = {
    "alpha": at.loguniform(1e-6, 1e-1),
    "eta0": at.loguniform(1e-4, 1.0),
    "loss": at.choice(["hinge", "log_loss", "modified_huber"]),
    "learning_rate": at.choice(["constant", "optimal", "invscaling", "adaptive"]),
}


@functools.lru_cache(maxsize=1)
def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_val), y_train, y_val


def train(params: dict[str, Any], epochs: int) -> float:
    """Validation accuracy after ``epochs`` epochs of SGD, reported after each one."""
    from sklearn.linear_model import SGDClassifier

    X_train, X_val, y_train, y_val = digits_split()
    classes = np.unique(y_train)
    model = SGDClassifier(random_state=0, **params)
    accuracy = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diverging configurations warn; they are part of the space
        for epoch in range(epochs):
            order = np.random.default_rng(epoch).permutation(len(y_train))
            model.partial_fit(X_train[order], y_train[order], classes=classes)
            accuracy = float(model.score(X_val, y_val))
            at.report(accuracy)
    return accuracy


def run_study(seed: int, trials: int, epochs: int, assessor: str | None,
              assessor_args: dict[str, Any]) -> dict[str, Any]:
    study = at.Study(SPACE, tuner="Random", direction="maximize", seed=seed, storage=None,
                     assessor=assessor, assessor_args=assessor_args if assessor else None)
    began = time.perf_counter()
    study.run(functools.partial(train, epochs=epochs), max_trials=trials, executor="inline")
    seconds = time.perf_counter() - began
    done = study.trials
    failed = [t for t in done if t.state not in (at.TrialState.SUCCEEDED, at.TrialState.EARLY_STOPPED)]
    assert len(done) == trials and not failed, (study.counts(), failed[:1] and failed[0].error)
    return {
        "epochs": sum(len(t.intermediates) for t in done),
        "best": study.best_value,
        "stopped": sum(t.state == at.TrialState.EARLY_STOPPED for t in done),
        "configs": [t.params for t in done],
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--median-start", type=int, default=5, help="Medianstop start_step (default 5)")
    parser.add_argument("--curve-start", type=int, default=6, help="Curvefitting start_step (default 6)")
    parser.add_argument("--curve-threshold", type=float, default=0.95)
    args = parser.parse_args()

    variants = {
        "none": (None, {}),
        "Medianstop": ("Medianstop", {"start_step": args.median_start}),
        "Curvefitting": ("Curvefitting", {"epoch_num": args.epochs, "start_step": args.curve_start,
                                          "threshold": args.curve_threshold, "gap": 1}),
    }
    print(f"SGDClassifier on digits, {args.trials} Random trials x {args.epochs} epochs, seeds 0..{args.seeds - 1}")
    for name, (_, assessor_args) in variants.items():
        if name != "none":
            print(f"  {name} {assessor_args}")
    print(f"{'seed':>4} {'assessor':<13}{'epochs':>7}{'saved':>8}{'stopped':>8}{'best final':>12}"
          f"{'rel. loss':>11}{'seconds':>9}  same configs")
    totals = {name: {"epochs": 0, "losses": [], "seconds": 0.0} for name in variants}
    for seed in range(args.seeds):
        results = {name: run_study(seed, args.trials, args.epochs, assessor, assessor_args)
                   for name, (assessor, assessor_args) in variants.items()}
        baseline = results["none"]
        for name, r in results.items():
            saved = 1 - r["epochs"] / baseline["epochs"]
            loss = (baseline["best"] - r["best"]) / baseline["best"]
            same = "yes" if r["configs"] == baseline["configs"] else "NO"
            totals[name]["epochs"] += r["epochs"]
            totals[name]["losses"].append(loss)
            totals[name]["seconds"] += r["seconds"]
            print(f"{seed:>4} {name:<13}{r['epochs']:>7}{saved:>8.1%}{r['stopped']:>8}{r['best']:>12.4f}"
                  f"{loss:>11.2%}{r['seconds']:>9.1f}  {same}", flush=True)
    print(f"over {args.seeds} seeds (target: >= 40% of the epochs saved, best within 0.5%)")
    base_epochs = totals["none"]["epochs"]
    for name, total in totals.items():
        losses = np.array(total["losses"])
        print(f"  {name:<13} epochs {total['epochs']:>6}  saved {1 - total['epochs'] / base_epochs:6.1%}  "
              f"relative loss of the best: mean {losses.mean():6.2%}, worst {losses.max():6.2%}, "
              f"within 0.5% on {np.sum(losses <= 0.005)}/{len(losses)} seeds  ({total['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
