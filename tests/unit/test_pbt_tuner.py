"""PBTTuner without a study: generations, who exploits whom, explore by factor or by resampling,
and its classArgs."""

from __future__ import annotations

import pytest

from autotune_nb.errors import ConfigurationError
from autotune_nb.testing.tuner_contract import finished
from autotune_nb.tuners import create_tuner

SPACE = {"lr": {"_type": "loguniform", "_value": [1e-4, 1.0]}, "act": {"_type": "choice", "_value": ["a", "b", "c"]}}


def generation(tuner, first_number, value_of):
    """Suggest a whole generation and end it; returns its trials by member."""
    configs = tuner.suggest(100)
    trials = {}
    for offset, config in enumerate(configs):
        directives = tuner.directives(config)
        trial = finished(first_number + offset, config, value_of(directives.member)).replace(directives=directives)
        tuner.observe(trial)
        trials[directives.member] = trial
    return trials


def pbt(**args):
    return create_tuner("PBTTuner", SPACE, optimize_mode="maximize", seed=0,
                        **{"population_size": 10, "factor": 0.2, "resample_probability": 0.0, "fraction": 0.2, **args})


def test_a_generation_waits_for_all_members_then_the_bottom_fraction_exploits_the_top():
    tuner = pbt()
    first = generation(tuner, 0, value_of=lambda member: member)  # member 9 best, 0 worst
    second = generation(tuner, 10, value_of=lambda member: member)
    assert len(first) == len(second) == 10 and tuner.generation == 2
    assert {t.directives.generation for t in second.values()} == {1}
    for member, trial in second.items():
        if member in (0, 1):  # the bottom 20% copied one of the top 20% (members 8, 9) ...
            assert trial.directives.parent in (first[8].number, first[9].number)
            source = first[trial.directives.parent]
            assert trial.params["act"] == source.params["act"]  # a choice keeps its option
            assert trial.params["lr"] / source.params["lr"] in (pytest.approx(0.8), pytest.approx(1.2))
        else:  # ... the others continue their own
            assert trial.directives.parent == first[member].number and trial.params == first[member].params


def test_suggest_waits_while_a_generation_runs():
    tuner = pbt(population_size=4)
    assert len(tuner.suggest(10)) == 4
    assert tuner.suggest(1) == []


def test_resample_probability_one_draws_fresh_values():
    tuner = pbt(resample_probability=1.0)
    first = generation(tuner, 0, value_of=lambda member: member)
    second = generation(tuner, 10, value_of=lambda member: member)
    for member in (0, 1):
        source = first[second[member].directives.parent]
        assert second[member].params["lr"] / source.params["lr"] not in (pytest.approx(0.8), pytest.approx(1.2))


def test_failed_members_rank_last():
    tuner = pbt(population_size=4, fraction=0.25)
    first = generation(tuner, 0, value_of=lambda member: None if member == 2 else 1.0 + member)
    second = tuner.suggest(4)
    exploiter = next(c for c in second if tuner.directives(c).member == 2)
    assert tuner.directives(exploiter).parent == first[3].number


@pytest.mark.parametrize(("args", "fragments"), [
    ({"population_size": 1}, ["PBTTuner", "population_size", ">= 2", "1"]),
    ({"factor": 1.0}, ["factor", "< 1"]),
    ({"factor": 0}, ["factor", "> 0"]),
    ({"resample_probability": 1.5}, ["resample_probability", "<= 1"]),
    ({"fraction": 0.6}, ["fraction", "<= 0.5", "0.6"]),
    ({"fraction": "0.2"}, ["fraction", "'0.2'"]),
    ({"all_checkpoint_dir": "/tmp"}, ["PBTTuner", "'all_checkpoint_dir'"]),
])
def test_bad_classargs_are_refused_by_name(args, fragments):
    with pytest.raises(ConfigurationError) as caught:
        create_tuner("PBTTuner", SPACE, **args)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_nested_spaces_are_refused():
    from autotune_nb.errors import UnsupportedSpaceError

    nested = {"layer": {"_type": "choice", "_value": [{"_name": "a", "x": {"_type": "uniform", "_value": [0, 1]}}]}}
    with pytest.raises(UnsupportedSpaceError, match="PBTTuner"):
        create_tuner("PBTTuner", nested)
