"""``at.compare``: best-so-far curves and bests of several studies, by ``Direction``'s rule."""

from __future__ import annotations

import pytest

import autotune_nb as at
from autotune_nb.config import StudyConfig
from autotune_nb.errors import ConfigurationError
from autotune_nb.trial import Trial, TrialState
from autotune_nb.views.comparison import compare_trials

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def config(name: str, direction: str = "minimize") -> StudyConfig:
    return StudyConfig(name=name, space=SPACE, tuner="Random", direction=direction)


def trials(*values) -> list[Trial]:
    return [Trial(number=i, params={"x": 0.5}, state=TrialState.SUCCEEDED if v is not None else TrialState.FAILED,
                  value=v) for i, v in enumerate(values)]


def test_rows_are_best_first_by_direction_and_curves_are_the_best_so_far_steps():
    studies = [(config("a"), trials(3.0, 2.0, 5.0)), (config("b"), trials(4.0, 1.0, 0.5)),
               (config("none"), trials(None, None))]
    comparison = compare_trials(studies)
    assert [row.name for row in comparison.rows] == ["b", "a", "none"]
    b = comparison.rows[0]
    assert (b.best_value, b.best_trial, b.succeeded) == (0.5, 2, 3)
    assert b.curve_values.tolist() == [4.0, 1.0, 0.5]
    assert comparison.rows[1].curve_numbers.tolist() == [0, 1, 2]  # ends on the last trial
    maximized = compare_trials([(config(c.name, "maximize"), t) for c, t in studies])
    assert [row.name for row in maximized.rows] == ["a", "b", "none"]
    page = comparison._repr_mimebundle_()["text/html"]
    assert page.count('class="autotune-compare-line"') == 2 and "<script" not in page


def test_studies_of_different_directions_or_none_are_refused():
    with pytest.raises(ConfigurationError, match=r"one direction, got 'a' minimize, 'b' maximize"):
        compare_trials([(config("a"), trials(1.0)), (config("b", "maximize"), trials(1.0))])
    with pytest.raises(ConfigurationError, match="at least one study"):
        at.compare([])


def test_compare_takes_study_objects_and_stored_names(tmp_path):
    store = tmp_path / "s.db"
    for name, seed in (("first", 0), ("second", 1)):
        at.Study({"x": at.uniform(0, 1)}, tuner="Random", direction="minimize", seed=seed, name=name,
                 storage=store).run(lambda p: p["x"], max_trials=5, executor="inline")
    live = at.Study({"x": at.uniform(0, 1)}, tuner="Random", direction="minimize", seed=2, storage=False, name="live")
    live.run(lambda p: p["x"], max_trials=5, executor="inline")
    comparison = at.compare(["first", "second", live], storage=store)
    assert sorted(row.name for row in comparison.rows) == ["first", "live", "second"]
    assert all(row.trials == 5 for row in comparison.rows)
    assert str(comparison).splitlines()[0].endswith("(minimize)")
