"""Hyperband's arithmetic against the paper's table, its classArgs, and its rebuilding from trials."""

from __future__ import annotations

import pytest

from autotune_nb.errors import ConfigurationError
from autotune_nb.testing.tuner_contract import MIXED_SPACE, finished, mixed_objective
from autotune_nb.trial import LOST_REASON, TrialState
from autotune_nb.tuners import create_tuner
from autotune_nb.tuners.hyperband import bracket_plan

#: Li et al. 2018, Table 1: R = 81, eta = 3; per bracket s, the (n_i, r_i) of each rung.
PAPER_TABLE = {
    4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    3: [(34, 3), (11, 9), (3, 27), (1, 81)],
    2: [(15, 9), (5, 27), (1, 81)],
    1: [(8, 27), (2, 81)],
    0: [(5, 81)],
}


def test_bracket_plan_is_the_paper_s_table():
    assert {s: [(n, pytest.approx(r)) for n, r in rungs] for s, rungs in bracket_plan(81, 3)} == PAPER_TABLE


def test_bracket_plan_for_r_not_a_power_of_eta():
    plan = bracket_plan(60, 3)  # NNI's default R: s_max = 3
    assert [s for s, _ in plan] == [3, 2, 1, 0]
    assert plan[0][1][0] == (27, pytest.approx(60 / 27))
    assert plan[-1][1] == [(4, 60)]


def run(tuner, count, state_of=lambda number: TrialState.SUCCEEDED):
    """Ask, evaluate, tell ``count`` times; the trials carry their directives as a study's do."""
    trials = []
    for number in range(count):
        [config] = tuner.suggest(1)
        state = state_of(number)
        value = mixed_objective(config) if state is TrialState.SUCCEEDED else None
        reason = LOST_REASON if state is TrialState.FAILED else None
        trial = finished(number, config, value, state).replace(directives=tuner.directives(config), reason=reason)
        tuner.observe(trial)
        trials.append(trial)
    return trials


def hyperband(**args):
    return create_tuner("Hyperband", MIXED_SPACE, optimize_mode="minimize", seed=0,
                        **{"R": 9, "eta": 3, "exec_mode": "serial", **args})


def test_successive_halving_keeps_the_best_third_of_each_rung():
    trials = run(hyperband(), 13)
    rung0, rung1, rung2 = trials[:9], trials[9:12], trials[12:]
    best3 = sorted(rung0, key=lambda t: t.value)[:3]
    assert [t.directives.parent for t in rung1] == [t.number for t in best3]
    assert rung2[0].directives.parent == min(rung1, key=lambda t: t.value).number
    assert [t.directives.budget for t in trials] == [1.0] * 9 + [3.0] * 3 + [9.0]


def test_serial_mode_waits_for_a_rung_to_end():
    tuner = hyperband()
    configs = tuner.suggest(20)
    assert len(configs) == 9  # rung 0 of bracket 0; rung 1 needs its results
    assert tuner.suggest(1) == []
    parallel = hyperband(exec_mode="parallelism").suggest(20)
    assert len(parallel) == 20  # brackets 1 and 2 fill in


def test_a_rebuilt_tuner_continues_the_bracket_where_the_trials_left_it():
    first = hyperband()
    trials = run(first, 11)  # rung 0 and two of rung 1
    rebuilt = hyperband()
    for trial in trials:
        rebuilt.observe(trial)
    [config] = rebuilt.suggest(1)
    directives = rebuilt.directives(config)
    assert (directives.bracket, directives.rung) == (0, 1)
    best3 = sorted(trials[:9], key=lambda t: t.value)[:3]
    assert directives.parent == best3[2].number and config == best3[2].params


def test_trials_lost_with_their_process_are_run_again():
    tuner = hyperband()
    configs = tuner.suggest(9)
    for number, config in enumerate(configs):
        lost = number == 4
        tuner.observe(finished(number, config, None if lost else mixed_objective(config),
                               TrialState.FAILED if lost else TrialState.SUCCEEDED).replace(
            directives=tuner.directives(config), reason=LOST_REASON if lost else None))
    [again] = tuner.suggest(1)
    assert again == configs[4] and tuner.directives(again).rung == 0


@pytest.mark.parametrize(("args", "fragments"), [
    ({"R": 0}, ["Hyperband", "R", ">= 1", "0"]),
    ({"R": 9.5}, ["R", "9.5"]),
    ({"eta": 1}, ["eta", ">= 2", "1"]),
    ({"exec_mode": "async"}, ["exec_mode", "'parallelism'", "'serial'", "'async'"]),
    ({"max_budget": 9}, ["Hyperband", "'max_budget'"]),
])
def test_bad_classargs_are_refused_by_name(args, fragments):
    with pytest.raises(ConfigurationError) as caught:
        create_tuner("Hyperband", MIXED_SPACE, **args)
    for fragment in fragments:
        assert fragment in str(caught.value)
