"""One rule for GPU ids: ``Study.run(gpus=...)``/``LocalPool`` and ``%%autotune --gpus`` accept and
refuse the same ids, with messages that name the value and the rule."""

from __future__ import annotations

import re

import pytest
from IPython.core.error import UsageError

from autotune_nb import ConfigurationError
from autotune_nb.execution.slots import GPU_ID_RULE, plan_slots
from autotune_nb.notebook.magic import parse_gpus

ACCEPTED = {
    "3": "3",
    "07": "7",
    "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6": "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6",
    "GPU-8932f937": "GPU-8932f937",  # a unique prefix of the UUID, as CUDA takes it
    "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f": "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f",
    "MIG-GPU-8932f937-d72c-4106-c12f-20bd9faed9f6/1/0": "MIG-GPU-8932f937-d72c-4106-c12f-20bd9faed9f6/1/0",
}
REFUSED = ["-1", "gpu0", "cuda:0", "GPU-", "GPU-xyz", "MIG-GPU-8932f937", "1.5", "0 1"]


@pytest.mark.parametrize("given, expected", ACCEPTED.items())
def test_the_pool_and_the_magic_accept_the_same_ids(given, expected):
    assert [slot.gpu for slot in plan_slots(gpus=[given])] == [expected]
    assert parse_gpus(f"0, {given}") == ["0", expected]


@pytest.mark.parametrize("given", REFUSED)
def test_the_pool_and_the_magic_refuse_the_same_ids_naming_value_and_rule(given):
    with pytest.raises(ConfigurationError, match=re.escape(f"{given!r} is not a GPU id; a GPU id is {GPU_ID_RULE}")):
        plan_slots(gpus=[given])
    with pytest.raises(UsageError, match=re.escape(f"{given!r} is not a GPU id; a GPU id is {GPU_ID_RULE}")):
        parse_gpus(f"0,{given}")


@pytest.mark.parametrize("given", [-1, True, 1.0, None])
def test_only_integers_and_strings_are_ids(given):
    with pytest.raises(ConfigurationError, match=re.escape(f"gpus: {given!r} is not a GPU id")):
        plan_slots(gpus=[given])


def test_an_index_given_twice_in_two_spellings_is_one_gpu_given_twice():
    with pytest.raises(ConfigurationError, match="gpus lists GPU '1' more than once"):
        plan_slots(gpus=[1, "01"])
