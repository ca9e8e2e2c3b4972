"""Search quality: mean and median regret after 30 and 100 trials, over seeds, for our tuners and, in
the same run, optuna's TPESampler (defaults), hyperopt's fmin TPE and random search.

Usage:
    python benchmarks/search_quality.py                       # everything, 20 seeds (long on 2 cores)
    python benchmarks/search_quality.py --seeds 5 --problems Branin Hartmann6 --tuners TPE optuna

Entrants (``--tuners``):
    <registry name>   one of our tuners (TPE, Random, Anneal, TPE_legacy, Evolution, GP, SMAC, MetisTuner,
                      PPOTuner, ...), asked one configuration at a time; a tuner that fails to import
                      is skipped with a note, and so is a problem whose space a tuner cannot search
                      (PPOTuner: categorical only; MetisTuner: choice, randint, uniform, quniform).
    <name>@<k>        the same tuner at concurrency k: k suggestions asked before any result is told.
    <name>@<k>a       asynchronous: k trials kept running, the oldest told and replaced one at a time
                      (how a Study at concurrency k runs trials of equal length).
    optuna            optuna.samplers.TPESampler(seed=s) with its defaults (optuna 5: multivariate).
    optuna-univariate the same with multivariate=False.
    hyperopt          hyperopt.fmin(algo=tpe.suggest, rstate=default_rng(s)).
    random            SearchSpace.sample with default_rng(s): the random-search baseline.
    optuna-gp, smac-hpo, hebo
                      stronger anchors (anchors.py): optuna's GPSampler, SMAC3's HPO facade, HEBO;
                      installed only in a benchmark venv (requirements-anchors.txt), else skipped.

Regret is the best value found minus the problem's minimum; SVC-digits' minimum is unknown and is
estimated by the best value any entrant found in this run (so is RF-breast-cancer's). Slow problems
(SVC-digits, RF-breast-cancer) run ``--slow-seeds`` seeds (default 5) instead of ``--seeds``, numbered
from ``--first-seed`` (default 0).

Search quality II's problems (problems_ii.py: rugged, wide-output, noisy, mixed and a random forest)
run when named. With optuna among the entrants, a further table gives each entrant's mean, median and
90th percentile regret and its ratio to optuna's, with a 95% paired-bootstrap interval (regret_stats.py):

    python benchmarks/search_quality.py --tuners TPE GP optuna --seeds 40 --trials 30 60 100 \
        --problems Rastrigin-3D Schwefel-2D Levy-4D Wide-Hartmann6 Wide-Rosenbrock4 Noisy-Hartmann6 MixedInt-6D

For every ``<name>@<k>`` entrant run next to ``<name>``, a second table compares the two on the same
seeds: the ratio of their mean regrets after the same number of trials, with a 95% interval from a
paired bootstrap over the seeds, and after the same number of rounds (``<name>@<k>`` after n trials
against ``<name>`` after n / k: what k workers buy in wall-clock time). How wide that interval is at
20 seeds is why the concurrency figures in README come from a 200-seed run:

    python benchmarks/search_quality.py --tuners TPE TPE@4 --seeds 200 --first-seed 1000 \
        --problems Branin Hartmann6 Rosenbrock-5D Ackley-5D
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune_nb.errors import UnsupportedSpaceError  # noqa: E402
from autotune_nb.space import SearchSpace  # noqa: E402
from autotune_nb.trial import Trial, TrialState  # noqa: E402
from autotune_nb.tuners import available_tuners, tuner_class  # noqa: E402
from anchors import ANCHORS  # noqa: E402
from problems import DEFAULT_PROBLEMS, PROBLEMS, Problem  # noqa: E402
from problems_ii import PROBLEMS_II  # noqa: E402
from regret_stats import BOOTSTRAP_RESAMPLES, format_against  # noqa: E402

#: Every problem the benchmark can run: problems.py's and search quality II's (problems_ii.py).
ALL_PROBLEMS: dict[str, Problem] = {**PROBLEMS, **PROBLEMS_II}

Runner = Callable[[Problem, int, int], list[float]]
PEERS = ("optuna", "hyperopt", "random")
# Registry entries that cannot search these continuous spaces, or are aliases of another entry.
_NOT_BENCHMARKED = {"GridSearch", "Batch", "HyperoptTPE"}


def our_tuner(name: str, concurrency: int = 1, asynchronous: bool = False) -> Runner:
    """Batches of ``concurrency`` suggestions, each told once the whole batch ran; or, asynchronous,
    ``concurrency`` trials kept running, the oldest told and replaced one at a time (as a Study runs)."""
    tuner_class(name)  # fail here (import error) rather than mid-run

    def run(problem: Problem, seed: int, n_trials: int) -> list[float]:
        from autotune_nb.tuners import create_tuner

        tuner = create_tuner(name, problem.space, optimize_mode="minimize", seed=seed)
        values: list[float] = []
        running: collections.deque = collections.deque()
        while len(values) < n_trials:
            room = min(concurrency - len(running), n_trials - len(values) - len(running))
            if room > 0:
                running.extend(tuner.suggest(room))
            if not running:
                break
            finished = [running.popleft()] if asynchronous else [running.popleft() for _ in range(len(running))]
            for config in finished:
                value = problem.objective(config)
                tuner.observe(Trial(len(values), config, TrialState.SUCCEEDED, value))
                values.append(value)
        return values

    return run


def optuna_distributions(space: Mapping[str, Any]) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, dist in SearchSpace(space).items():
        kind = dist.type_name
        if kind in ("uniform", "loguniform"):
            out[name] = FloatDistribution(dist.low, dist.high, log=dist.log)
        elif kind == "quniform":
            out[name] = FloatDistribution(dist.low, dist.high, step=dist.q)
        elif kind == "randint":
            out[name] = IntDistribution(dist.low, dist.high - 1)
        elif kind in ("choice", "layer_choice"):
            out[name] = CategoricalDistribution(dist.options)
        elif kind == "input_choice":  # optuna's categories are scalars: a subset as its joined names
            out[name] = CategoricalDistribution(["+".join(subset) for subset in dist.options])
        else:
            raise ValueError(f"no optuna distribution for {kind}")
    return out


def from_optuna(space: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """optuna's params as a configuration of ``space`` (an input_choice's joined names split again)."""
    kinds = {name: dist.type_name for name, dist in SearchSpace(space).items()}
    return {name: value.split("+") if kinds[name] == "input_choice" else value for name, value in params.items()}


def optuna_runner(make_sampler: Callable[[int], Any]) -> Runner:
    """optuna asked one configuration at a time (ask/tell), with the sampler ``make_sampler(seed)``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    def run(problem: Problem, seed: int, n_trials: int) -> list[float]:
        study = optuna.create_study(sampler=make_sampler(seed))
        distributions = optuna_distributions(problem.space)
        values = []
        for _ in range(n_trials):
            trial = study.ask(distributions)
            value = problem.objective(from_optuna(problem.space, trial.params))
            study.tell(trial, value)
            values.append(value)
        return values

    return run


def optuna_tpe(multivariate: bool | None = None) -> Runner:
    import optuna

    kwargs = {} if multivariate is None else {"multivariate": multivariate}
    return optuna_runner(lambda seed: optuna.samplers.TPESampler(seed=seed, **kwargs))


def hyperopt_space(space: Mapping[str, Any]) -> dict[str, Any]:
    from hyperopt import hp

    out: dict[str, Any] = {}
    for name, dist in SearchSpace(space).items():
        kind = dist.type_name
        if kind == "uniform":
            out[name] = hp.uniform(name, dist.low, dist.high)
        elif kind == "loguniform":
            out[name] = hp.loguniform(name, math.log(dist.low), math.log(dist.high))
        elif kind == "quniform":
            out[name] = hp.quniform(name, dist.low, dist.high, dist.q)
        elif kind == "randint":
            out[name] = hp.randint(name, dist.low, dist.high)
        elif kind in ("choice", "layer_choice", "input_choice"):
            out[name] = hp.choice(name, dist.options)
        else:
            raise ValueError(f"no hyperopt expression for {kind}")
    return out


def hyperopt_tpe() -> Runner:
    import logging

    from hyperopt import fmin, tpe

    logging.getLogger("hyperopt").setLevel(logging.WARNING)

    def run(problem: Problem, seed: int, n_trials: int) -> list[float]:
        values: list[float] = []

        def objective(params: dict[str, Any]) -> float:
            params = {k: int(v) if isinstance(v, np.integer) else v for k, v in params.items()}
            values.append(problem.objective(params))
            return values[-1]

        fmin(objective, hyperopt_space(problem.space), algo=tpe.suggest, max_evals=n_trials,
             rstate=np.random.default_rng(seed), show_progressbar=False)
        return values

    return run


def random_search() -> Runner:
    def run(problem: Problem, seed: int, n_trials: int) -> list[float]:
        space, rng = SearchSpace(problem.space), np.random.default_rng(seed)
        return [problem.objective(space.sample(rng)) for _ in range(n_trials)]

    return run


def make_runner(entrant: str) -> Runner:
    if entrant == "optuna":
        return optuna_tpe()
    if entrant == "optuna-univariate":
        return optuna_tpe(multivariate=False)
    if entrant == "hyperopt":
        return hyperopt_tpe()
    if entrant == "random":
        return random_search()
    if entrant in ANCHORS:
        return ANCHORS[entrant]()
    name, _, concurrency = entrant.partition("@")
    return our_tuner(name, int(concurrency.rstrip("a") or 1), asynchronous=concurrency.endswith("a"))


def default_entrants() -> list[str]:
    ours = [name for name in available_tuners() if name not in _NOT_BENCHMARKED]
    ours.sort(key=lambda name: (name != "TPE", name.lower()))
    return ours[:1] + ["TPE@4"] + ours[1:] + list(PEERS)


def best_so_far(values: list[float], n_trials: int) -> np.ndarray:
    """The best value after 1, 2, ..., n_trials trials (a tuner that stopped early keeps its last best)."""
    curve = np.minimum.accumulate(np.asarray(values[:n_trials], dtype=float)) if values else np.full(1, math.inf)
    return np.pad(curve, (0, n_trials - len(curve)), mode="edge")


def run_problem(problem: Problem, runners: dict[str, Runner], seeds: list[int],
                checkpoints: list[int]) -> dict[str, dict[str, Any]]:
    """{entrant: {"curves": seeds x trials best-so-far, "best": seeds x checkpoints, "seconds": total}}."""
    results: dict[str, dict[str, Any]] = {}
    n_trials = max(checkpoints)
    for entrant, runner in runners.items():
        start, curves = time.perf_counter(), []
        try:
            for seed in seeds:
                curves.append(best_so_far(runner(problem, seed, n_trials), n_trials))
        except UnsupportedSpaceError as exc:
            print(f"note: {entrant} skipped on {problem.name}: {exc}", flush=True)
            continue
        except Exception as exc:  # one broken tuner must not end the whole benchmark
            print(f"note: {entrant} failed on {problem.name}: {type(exc).__name__}: {exc}", flush=True)
            continue
        curves = np.array(curves)
        results[entrant] = {"curves": curves, "best": curves[:, [n - 1 for n in checkpoints]],
                            "seconds": time.perf_counter() - start}
        print(f"  {problem.name:<14} {entrant:<18} done in {results[entrant]['seconds']:.1f} s", flush=True)
    return results


def problem_minimum(problem: Problem, results: dict[str, dict[str, Any]]) -> tuple[float, str]:
    if problem.minimum is not None:
        return problem.minimum, ""
    minimum = min(float(r["best"].min()) for r in results.values())
    return minimum, f" (minimum unknown: estimated {minimum:.6g}, the best any entrant found)"


def print_table(problem: Problem, results: dict[str, dict[str, Any]], checkpoints: list[int],
                n_seeds: int) -> None:
    minimum, note = problem_minimum(problem, results)
    print(f"\n{problem.name}: regret over {n_seeds} seeds{note}")
    header = "".join(f"  {'mean@' + str(n):>11}  {'median@' + str(n):>11}" for n in checkpoints)
    print(f"  {'tuner':<18}{header}  {'seconds':>8}")
    for entrant, r in results.items():
        regret = r["best"] - minimum
        cells = "".join(f"  {np.mean(regret[:, i]):>11.4g}  {np.median(regret[:, i]):>11.4g}"
                        for i in range(len(checkpoints)))
        print(f"  {entrant:<18}{cells}  {r['seconds']:>8.1f}")
    sys.stdout.flush()


def print_against_optuna(problem: Problem, results: dict[str, dict[str, Any]], checkpoints: list[int]) -> None:
    """Each entrant's mean, median and 90th percentile regret, with its ratio to optuna's TPE on the same
    seeds and a 95% paired-bootstrap interval (regret_stats.py); nothing when optuna did not run."""
    if "optuna" not in results:
        return
    minimum, _ = problem_minimum(problem, results)
    rng = np.random.default_rng(0)
    print(f"\n{problem.name}: regret, and its ratio to optuna's [95% paired-bootstrap interval]")
    for i, n in enumerate(checkpoints):
        reference = results["optuna"]["best"][:, i] - minimum
        for entrant, r in results.items():
            if entrant != "optuna":
                print(f"  @{n:<4} {entrant:<18} {format_against(r['best'][:, i] - minimum, reference, rng)}")
    sys.stdout.flush()


def ratio_with_interval(numerator: np.ndarray, denominator: np.ndarray, rng: np.random.Generator) -> str:
    """mean(numerator) / mean(denominator), with a 95% interval from resampling the seeds (paired)."""
    ratio = numerator.mean() / denominator.mean()
    picks = rng.integers(len(numerator), size=(BOOTSTRAP_RESAMPLES, len(numerator)))
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled = numerator[picks].mean(axis=1) / denominator[picks].mean(axis=1)
    low, high = np.nanpercentile(resampled, [2.5, 97.5])
    return f"{ratio:.2f} [{low:.2f}, {high:.2f}]"


def print_concurrency(problem: Problem, results: dict[str, dict[str, Any]], checkpoints: list[int]) -> None:
    """For each <name>@<k> run next to <name>: regret ratios after the same trials and the same rounds."""
    pairs = [(entrant, entrant.partition("@")[0], int(entrant.partition("@")[2].rstrip("a")))
             for entrant in results if "@" in entrant and entrant.partition("@")[0] in results]
    if not pairs:
        return
    minimum, _ = problem_minimum(problem, results)
    rng = np.random.default_rng(0)
    print(f"\n{problem.name}: mean regret ratio, 95% interval from a paired bootstrap over seeds")
    for entrant, base, k in pairs:
        concurrent = results[entrant]["curves"] - minimum
        sequential = results[base]["curves"] - minimum
        same_trials = "  ".join(f"@{n}: {ratio_with_interval(concurrent[:, n - 1], sequential[:, n - 1], rng)}"
                                for n in checkpoints)
        same_rounds = "  ".join(
            f"{n} vs {math.ceil(n / k)}: "
            f"{ratio_with_interval(concurrent[:, n - 1], sequential[:, math.ceil(n / k) - 1], rng)}"
            for n in checkpoints)
        print(f"  {entrant} / {base}, same trials   {same_trials}")
        print(f"  {entrant} / {base}, same rounds   {same_rounds}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 per problem (default 20)")
    parser.add_argument("--slow-seeds", type=int, default=5, help="seeds for slow problems (default 5)")
    parser.add_argument("--first-seed", type=int, default=0, help="number of the first seed (default 0)")
    parser.add_argument("--trials", type=int, nargs="+", default=[30, 100], help="checkpoints (default 30 100)")
    parser.add_argument("--problems", nargs="+", default=list(DEFAULT_PROBLEMS), choices=list(ALL_PROBLEMS))
    parser.add_argument("--tuners", nargs="+", default=None, help="entrants (default: all, see above)")
    args = parser.parse_args(argv)

    runners: dict[str, Runner] = {}
    for entrant in args.tuners or default_entrants():
        try:
            runners[entrant] = make_runner(entrant)
        except Exception as exc:  # a tuner another helper is still writing: skip it, say why
            print(f"note: skipping {entrant}: {type(exc).__name__}: {exc}")
    checkpoints = sorted(args.trials)
    print(f"entrants: {', '.join(runners)}; checkpoints: {checkpoints}", flush=True)
    for name in args.problems:
        problem = ALL_PROBLEMS[name]
        n_seeds = args.slow_seeds if problem.slow else args.seeds
        seeds = list(range(args.first_seed, args.first_seed + n_seeds))
        results = run_problem(problem, runners, seeds, checkpoints)
        print_table(problem, results, checkpoints, len(seeds))
        print_against_optuna(problem, results, checkpoints)
        print_concurrency(problem, results, checkpoints)


if __name__ == "__main__":
    main()
