"""The magic's option parsing and its help (what `%%autotune?` prints)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from autotune_nb.notebook.magic import (
    AutotuneMagics,
    parse_duration,
    parse_gpus,
    parse_json_option,
)

OPTIONS = ["--tuner", "--tuner-args", "--trials", "--concurrency", "--gpus", "--trials-per-gpu", "--assessor",
           "--assessor-args", "--maximize", "--minimize", "--space", "--name", "--resume", "--seed", "--timeout",
           "--trial-timeout", "--max-failures", "--config", "--background", "--out"]


def test_help_lists_every_option():
    doc = AutotuneMagics.autotune.__doc__
    assert all(option in doc for option in OPTIONS)
    assert "at.report(value)" in doc


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("10m", 600), ("1.5h", 5400), ("2d", 172800)])
def test_durations(text, seconds):
    assert parse_duration(text, "--timeout") == seconds


@pytest.mark.parametrize("text", ["soon", "0", "-5m", "10 weeks"])
def test_bad_durations_name_the_value_and_the_rule(text):
    with pytest.raises(UsageError, match=rf"--timeout '{text}' is not a duration: use a positive number"):
        parse_duration(text, "--timeout")


def test_gpus():
    assert parse_gpus("0,1, 3") == ["0", "1", "3"]
    with pytest.raises(UsageError, match="--gpus 'gpu0' is not a list of GPU ids"):
        parse_gpus("gpu0")


def test_class_args_from_json_or_a_dict_variable():
    assert parse_json_option('{"gamma": 0.2}', "--tuner-args", {}) == {"gamma": 0.2}
    assert parse_json_option("ARGS", "--tuner-args", {"ARGS": {"gamma": 0.3}}) == {"gamma": 0.3}
    with pytest.raises(UsageError, match=r"--tuner-args '\[1\]' is not a JSON object"):
        parse_json_option("[1]", "--tuner-args", {})
