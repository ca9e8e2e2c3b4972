"""Early stopping and multi-fidelity tuning on a learning-curve benchmark: epochs spent, best final
value and wall time, ours against no early stopping and against Optuna's pruners.

The task: sklearn's ``SGDClassifier`` trained on the digits data (1,797 images, scaled, 70/30 split,
fixed) with ``partial_fit``, one epoch per report, up to ``--epochs`` (20) epochs; each epoch reports
the validation accuracy and a trial's result is its accuracy after its last epoch (maximized). The
space: ``alpha`` and ``eta0`` log-uniform, the loss (hinge, log_loss, modified_huber) and the
learning-rate schedule (constant, optimal, invscaling, adaptive). A trial is deterministic given its
configuration and epoch count (fixed model seed and epoch shuffles); a trial that continues from a
checkpoint (the pickled model and its epoch) gives what one uninterrupted run would.

For each seed, ``--trials`` (50) trials, every variant at concurrency 2 (``LocalPool``; Optuna:
``n_jobs=2``):

* ``none``, ``Medianstop``, ``Curvefitting``, ``ASHA``: Random search with that assessor (none: no
  early stopping), each trial given ``--epochs`` epochs. Random's configurations do not depend on
  results, so these runs see the same configurations (the "same" column checks it).
* ``Hyperband`` (R = ``--epochs``, eta 3) and ``BOHB`` (min_budget 1, max_budget ``--epochs``,
  eta 3): ``--trials`` trials counting every rung's; a promoted configuration continues from its
  parent's checkpoint.
* ``optuna-SHA`` and ``optuna-HB``: Optuna's SuccessiveHalvingPruner (min_resource 1,
  reduction_factor 3, the same rungs as our ASHA) and HyperbandPruner (min_resource 1, max_resource
  ``--epochs``, reduction_factor 3), paired with ours: each is given, with ``enqueue_trial`` in
  order, the very configurations ours ran (optuna-SHA: the ``--trials`` configurations of
  ``none``/ASHA; optuna-HB: the distinct configurations Hyperband ran, in order of first run), so
  epochs and best are compared on the same configurations (the "same" column checks it).

Settings are fixed beforehand, not tuned to this benchmark: Medianstop ``start_step=5``,
Curvefitting ``epoch_num=20, start_step=6, threshold=0.95, gap=1`` (NNI's documentation examples),
ASHA ``min_resource=1, reduction_factor=3``.

Printed per seed and over all seeds: epochs run (each epoch trained counts once), % saved against
``none``, the best final value and its relative loss ``(best none - best) / best none``, seconds.
Targets: ASHA or Hyperband saves >= 60% of the epochs with the best within 0.5% of ``none`` on >= 4
of 5 seeds, and spends fewer epochs than Optuna's pruner of the same kind for an equal best.

``--pbt`` runs instead PBT against Random on a task where the learning-rate schedule matters: the
same SGD on digits with a constant learning rate ``eta0`` (log_loss), searching ``eta0`` and
``alpha``. PBT (population ``--population`` 10, NNI's other defaults) trains each member
``--epochs`` epochs in ``--generations`` (5) generations, so exploit and explore change ``eta0`` as
training goes (a schedule); Random trains ``--population`` configurations for ``--epochs`` epochs
each: the same total epochs. Target: PBT's best beats Random's on >= 4 of 5 seeds (ties printed apart).
First it prints whether a schedule matters on this task at all: the best accuracy over a grid of
(alpha, eta0) with eta0 constant against the same grid with eta0 decaying per generation
(``schedule_gain``); measured 0.9704 constant vs 0.9667 decaying, so on this task PBT's edge over
Random can come only from its search (exploiting good members), not from a schedule.

    nice -n 10 python benchmarks/early_stopping.py [--seeds 5] [--first-seed 0] [--trials 50] [--epochs 20]
        [--variants Medianstop,ASHA,optuna-SHA]   (none always runs; default: every variant)
    nice -n 10 python benchmarks/early_stopping.py --pbt [--seeds 5] [--population 10] [--generations 5]
"""

from __future__ import annotations

import argparse
import functools
import os
import pickle
import sys
import time
import warnings
from typing import Any, Callable, Iterator

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autotune_nb as at  # noqa: E402

LOSSES = ["hinge", "log_loss", "modified_huber"]
SCHEDULES = ["constant", "optimal", "invscaling", "adaptive"]
SPACE = {
    "alpha": at.loguniform(1e-6, 1e-1),
    "eta0": at.loguniform(1e-4, 1.0),
    "loss": at.choice(LOSSES),
    "learning_rate": at.choice(SCHEDULES),
}
CONCURRENCY = 2
CHECKPOINT = "model.pkl"


#: The split, made once per process (a plain dict, not lru_cache: workers unpickle this script's functions).
_SPLIT: dict[str, tuple] = {}


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not _SPLIT:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        X, y = load_digits(return_X_y=True)
        X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        scaler = StandardScaler().fit(X_train)
        _SPLIT["digits"] = (scaler.transform(X_train), scaler.transform(X_val), y_train, y_val)
    return _SPLIT["digits"]


def sgd_epochs(params: dict[str, Any], model: Any, start: int, stop: int) -> Iterator[tuple[int, Any, float]]:
    """Train ``model`` (a new one if None) from epoch ``start`` to ``stop``: (epoch, model, accuracy)."""
    from sklearn.linear_model import SGDClassifier

    X_train, X_val, y_train, y_val = digits_split()
    model = model if model is not None else SGDClassifier(random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diverging configurations warn; they are part of the space
        for epoch in range(start + 1, stop + 1):
            order = np.random.default_rng(epoch - 1).permutation(len(y_train))
            model.partial_fit(X_train[order], y_train[order], classes=np.unique(y_train))
            yield epoch, model, float(model.score(X_val, y_val))


def train(params: dict[str, Any], epochs: int) -> float:
    """Accuracy after ``at.budget`` epochs (``epochs`` without a budget), reported after each; with a
    checkpoint folder, continues from the model saved there and saves its own at the end."""
    stop = int(at.budget) if at.budget is not None else epochs
    path = os.path.join(at.checkpoint_dir, CHECKPOINT) if at.checkpoint_dir else None
    model, start = None, 0
    if path and os.path.exists(path):
        with open(path, "rb") as file:
            model, start = pickle.load(file)
    accuracy = 0.0
    for epoch, model, accuracy in sgd_epochs(params, model, start, stop):
        at.report(accuracy, step=epoch)
    if path:
        with open(path, "wb") as file:
            pickle.dump((model, stop), file)
    return accuracy


def run_ours(seed: int, trials: int, epochs: int, tuner: str, tuner_args: dict, assessor: str | None,
             assessor_args: dict) -> dict[str, Any]:
    study = at.Study(SPACE, tuner=tuner, tuner_args=tuner_args, direction="maximize", seed=seed, storage=None,
                     assessor=assessor, assessor_args=assessor_args if assessor else None)
    began = time.perf_counter()
    study.run(functools.partial(train, epochs=epochs), max_trials=trials, concurrency=CONCURRENCY)
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


def distinct_in_order(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``configs`` without repeats (a promoted configuration runs again), in order of first run."""
    seen: list[dict[str, Any]] = []
    for config in configs:
        if config not in seen:
            seen.append(config)
    return seen


def run_optuna(seed: int, configs: list[dict[str, Any]], epochs: int, pruner: str) -> dict[str, Any]:
    """Optuna with ``pruner`` over exactly ``configs`` (enqueued in order), at concurrency 2."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Optuna's threads run partial_fit outside the caller's warning filters: sklearn's joblib notice, not a result.
    warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed")
    pruners = {
        "SHA": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3,
                                                                min_early_stopping_rate=0),
        "HB": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs, reduction_factor=3),
    }
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=pruners[pruner]())
    for config in configs:
        study.enqueue_trial(config)

    def objective(trial: "optuna.Trial") -> float:
        params = {
            "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
            "eta0": trial.suggest_float("eta0", 1e-4, 1.0, log=True),
            "loss": trial.suggest_categorical("loss", LOSSES),
            "learning_rate": trial.suggest_categorical("learning_rate", SCHEDULES),
        }
        accuracy = 0.0
        for epoch, _, accuracy in sgd_epochs(params, None, 0, epochs):
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy

    began = time.perf_counter()
    study.optimize(objective, n_trials=len(configs), n_jobs=CONCURRENCY)
    seconds = time.perf_counter() - began
    done = study.trials
    return {
        "epochs": sum(len(t.intermediate_values) for t in done),
        "best": study.best_value,
        "stopped": sum(t.state == optuna.trial.TrialState.PRUNED for t in done),
        "configs": [t.params for t in done],
        "seconds": seconds,
    }


#: Each Optuna variant and the variant of ours whose configurations it is given.
OPTUNA_PAIRS = {"optuna-SHA": "ASHA", "optuna-HB": "Hyperband"}


def variants(epochs: int) -> dict[str, Callable[[int, int, dict], dict[str, Any]]]:
    """name -> run(seed, trials, earlier results of this seed); an Optuna variant reads its pair's."""
    random = functools.partial(run_ours, tuner="Random", tuner_args={})
    return {
        "none": lambda seed, trials, _: random(seed, trials, epochs, assessor=None, assessor_args={}),
        "Medianstop": lambda seed, trials, _: random(seed, trials, epochs, assessor="Medianstop",
                                                     assessor_args={"start_step": 5}),
        "Curvefitting": lambda seed, trials, _: random(seed, trials, epochs, assessor="Curvefitting", assessor_args={
            "epoch_num": epochs, "start_step": 6, "threshold": 0.95, "gap": 1}),
        "ASHA": lambda seed, trials, _: random(seed, trials, epochs, assessor="ASHA",
                                               assessor_args={"min_resource": 1, "reduction_factor": 3}),
        "Hyperband": lambda seed, trials, _: run_ours(seed, trials, epochs, "Hyperband", {"R": epochs, "eta": 3},
                                                      None, {}),
        "BOHB": lambda seed, trials, _: run_ours(seed, trials, epochs, "BOHB",
                                                 {"min_budget": 1, "max_budget": epochs, "eta": 3}, None, {}),
        "optuna-SHA": lambda seed, trials, done: run_optuna(seed, done["ASHA"]["configs"], epochs, "SHA"),
        "optuna-HB": lambda seed, trials, done: run_optuna(
            seed, distinct_in_order(done["Hyperband"]["configs"]), epochs, "HB"),
    }


def same_configs(name: str, results: dict[str, dict[str, Any]]) -> str:
    """'yes'/'NO': whether a variant ran the configurations of the one it is compared with."""
    if name in OPTUNA_PAIRS:
        reference = distinct_in_order(results[OPTUNA_PAIRS[name]]["configs"])
    elif name in ("Hyperband", "BOHB"):
        return ""
    else:
        reference = results["none"]["configs"]
    return "yes" if results[name]["configs"] == reference else "NO"


def early_stopping_benchmark(args: argparse.Namespace) -> None:
    runs = {name: run for name, run in variants(args.epochs).items() if name in args.variants}
    print(f"SGDClassifier on digits, {args.trials} trials x up to {args.epochs} epochs, concurrency {CONCURRENCY}, "
          f"seeds {args.first_seed}..{args.first_seed + args.seeds - 1}")
    print(f"{'seed':>4} {'variant':<13}{'epochs':>7}{'saved':>8}{'stopped':>8}{'best final':>12}"
          f"{'rel. loss':>11}{'seconds':>9}  same configs")
    totals = {name: {"epochs": [], "losses": [], "bests": [], "seconds": 0.0} for name in runs}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        results: dict[str, dict[str, Any]] = {}
        for name, run in runs.items():
            results[name] = run(seed, args.trials, results)
        baseline = results["none"]
        for name, r in results.items():
            saved = 1 - r["epochs"] / baseline["epochs"]
            loss = (baseline["best"] - r["best"]) / baseline["best"]
            totals[name]["epochs"].append(r["epochs"])
            totals[name]["losses"].append(loss)
            totals[name]["bests"].append(r["best"])
            totals[name]["seconds"] += r["seconds"]
            print(f"{seed:>4} {name:<13}{r['epochs']:>7}{saved:>8.1%}{r['stopped']:>8}{r['best']:>12.4f}"
                  f"{loss:>11.2%}{r['seconds']:>9.1f}  {same_configs(name, results)}", flush=True)
    base = np.array(totals["none"]["epochs"], dtype=float)
    print(f"over {args.seeds} seeds (target: ASHA or Hyperband >= 60% saved with the best within 0.5% on >= 4 "
          "seeds, and fewer epochs than Optuna's pruner of the same kind for an equal best)")
    for name, total in totals.items():
        epochs, losses = np.array(total["epochs"], dtype=float), np.array(total["losses"])
        saved = 1 - epochs / base
        both = np.sum((saved >= 0.6) & (losses <= 0.005))
        print(f"  {name:<13} epochs {int(epochs.sum()):>6}  saved {1 - epochs.sum() / base.sum():6.1%}  "
              f"best: mean rel. loss {losses.mean():6.2%}, worst {losses.max():6.2%}, within 0.5% on "
              f"{np.sum(losses <= 0.005)}/{len(losses)} seeds; >= 60% saved and within 0.5% on {both}/{len(losses)}"
              f"  ({total['seconds']:.1f} s)")
    for theirs, ours in OPTUNA_PAIRS.items():
        if ours not in totals or theirs not in totals:
            continue
        mine, other = np.array(totals[ours]["epochs"]), np.array(totals[theirs]["epochs"])
        best_mine, best_other = np.array(totals[ours]["bests"]), np.array(totals[theirs]["bests"])
        print(f"  {ours} / {theirs} (same configurations): epochs x{mine.sum() / other.sum():.2f}; "
              f"fewer epochs on {np.sum(mine < other)}/{len(mine)} seeds; best equal on "
              f"{np.sum(best_mine == best_other)}, higher on {np.sum(best_mine > best_other)}, lower on "
              f"{np.sum(best_mine < best_other)}; fewer epochs with a best at least as high on "
              f"{np.sum((mine < other) & (best_mine >= best_other))}/{len(mine)}")


PBT_SPACE = {"eta0": at.loguniform(1e-4, 1.0), "alpha": at.loguniform(1e-6, 1e-1)}
PBT_FIXED = {"loss": "log_loss", "learning_rate": "constant"}


def train_span(params: dict[str, Any], epochs: int, span: int) -> float:
    """With a checkpoint folder (PBT): ``span`` more epochs from the model saved there (its
    ``eta0`` and ``alpha`` set to this trial's), saved again; without one: ``epochs`` from scratch."""
    path = os.path.join(at.checkpoint_dir, CHECKPOINT) if at.checkpoint_dir else None
    model, start = None, 0
    if path and os.path.exists(path):
        with open(path, "rb") as file:
            model, start = pickle.load(file)
        model.set_params(**params)
    stop = start + span if path else epochs
    accuracy = 0.0
    for epoch, model, accuracy in sgd_epochs({**params, **PBT_FIXED}, model, start, stop):
        at.report(accuracy, step=epoch)
    if path:
        with open(path, "wb") as file:
            pickle.dump((model, stop), file)
    return accuracy


def schedule_gain(epochs: int, generations: int) -> tuple[float, float]:
    """Does a learning-rate schedule matter on the PBT task? The best validation accuracy over a grid
    of (alpha, eta0) with ``eta0`` constant, and over the same grid with ``eta0`` multiplied by
    0.5, 0.3 or 0.1 at each generation (a decaying schedule): (best constant, best decaying)."""
    span = epochs // generations

    def accuracy(alpha: float, rates: list[float]) -> float:
        model, result = None, 0.0
        for generation, rate in enumerate(rates):
            if model is not None:
                model.set_params(eta0=rate)
            for _, model, result in sgd_epochs({"alpha": alpha, "eta0": rate, **PBT_FIXED}, model,
                                               generation * span, (generation + 1) * span):
                pass
        return result

    grid = [(alpha, eta0) for alpha in (1e-6, 1e-4, 1e-3, 1e-2) for eta0 in np.logspace(-4, 0, 9)]
    constant = max(accuracy(alpha, [eta0] * generations) for alpha, eta0 in grid)
    decaying = max(accuracy(alpha, [eta0 * decay ** g for g in range(generations)])
                   for alpha, eta0 in grid for decay in (0.5, 0.3, 0.1))
    return constant, decaying


def pbt_benchmark(args: argparse.Namespace) -> None:
    span = args.epochs // args.generations
    constant, decaying = schedule_gain(args.epochs, args.generations)
    print(f"does the schedule matter? best accuracy over a grid of (alpha, eta0): eta0 constant {constant:.4f}, "
          f"eta0 decaying per generation (x0.5, x0.3 or x0.1) {decaying:.4f}")
    print(f"SGD (constant eta0, log_loss) on digits: PBT population {args.population} x {args.generations} "
          f"generations x {span} epochs vs Random {args.population} x {args.epochs} epochs, concurrency {CONCURRENCY}")
    print(f"{'seed':>4}{'PBT best':>10}{'Random best':>13}{'PBT epochs':>12}{'Random epochs':>15}"
          f"{'PBT s':>8}{'Random s':>10}")
    wins = ties = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        results = {}
        for name, tuner, tuner_args, trials in (
                ("PBT", "PBTTuner", {"population_size": args.population}, args.population * args.generations),
                ("Random", "Random", {}, args.population)):
            study = at.Study(PBT_SPACE, tuner=tuner, tuner_args=tuner_args, seed=seed, storage=None)
            began = time.perf_counter()
            study.run(functools.partial(train_span, epochs=args.epochs, span=span), max_trials=trials,
                      concurrency=CONCURRENCY)
            results[name] = (study.best_value, sum(len(t.intermediates) for t in study.trials),
                             time.perf_counter() - began)
        wins += results["PBT"][0] > results["Random"][0]
        ties += results["PBT"][0] == results["Random"][0]
        print(f"{seed:>4}{results['PBT'][0]:>10.4f}{results['Random'][0]:>13.4f}{results['PBT'][1]:>12}"
              f"{results['Random'][1]:>15}{results['PBT'][2]:>8.1f}{results['Random'][2]:>10.1f}", flush=True)
    print(f"PBT's best beats Random's on {wins}/{args.seeds} seeds, ties on {ties} (target: beats on >= 4 of 5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first..first+N-1 (default 0)")
    parser.add_argument("--variants", type=lambda text: ["none", *text.split(",")], default=list(variants(20)),
                        help="comma-separated variants to run besides none (default: all); an Optuna variant "
                             "needs its pair (optuna-SHA: ASHA, optuna-HB: Hyperband) before it")
    parser.add_argument("--pbt", action="store_true", help="PBT vs Random instead")
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--generations", type=int, default=5)
    args = parser.parse_args()
    if args.pbt:
        pbt_benchmark(args)
    else:
        early_stopping_benchmark(args)


if __name__ == "__main__":
    main()
