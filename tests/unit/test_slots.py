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


NVIDIA_SMI_LISTING = """GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-11111111-2222-3333-4444-555555555555)
GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee)
  MIG 1g.5gb      Device  0: (UUID: MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f)
  MIG 1g.5gb      Device  1: (UUID: MIG-d7e5a2f0-53f5-6ef4-a2d8-56e82d98fc40)
"""


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch):
    """An ``nvidia-smi`` on PATH that prints the given text and exits with the given code."""
    def install(listing: str, code: int = 0):
        (tmp_path / "listing.txt").write_text(listing)
        script = tmp_path / "nvidia-smi"
        script.write_text(f"#!/bin/sh\n/bin/cat {tmp_path / 'listing.txt'}\nexit {code}\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return install


def test_all_gpus_are_those_of_cuda_visible_devices_when_it_is_set(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, GPU-8932f937")
    slots = plan_slots(gpus="all", trials_per_gpu=2)
    assert [slot.gpu for slot in slots] == ["2", "GPU-8932f937", "2", "GPU-8932f937"]
    assert parse_gpus("all") == parse_gpus(" ALL ") == "all"


@pytest.mark.parametrize("hidden", ["", "-1", "-1,0"])
def test_all_gpus_refuses_a_cuda_visible_devices_that_hides_every_gpu(monkeypatch, hidden):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
    with pytest.raises(ConfigurationError, match=re.escape(f"gpus='all': CUDA_VISIBLE_DEVICES={hidden!r} hides every GPU")):
        plan_slots(gpus="all")


def test_all_gpus_are_nvidia_smis_by_uuid_and_a_mig_gpu_is_its_mig_devices(fake_nvidia_smi):
    fake_nvidia_smi(NVIDIA_SMI_LISTING)
    assert [slot.gpu for slot in plan_slots(gpus="all")] == [
        "GPU-11111111-2222-3333-4444-555555555555",
        "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f",
        "MIG-d7e5a2f0-53f5-6ef4-a2d8-56e82d98fc40",
    ]


def test_all_gpus_on_a_machine_without_gpus_is_refused_saying_so(fake_nvidia_smi, tmp_path):
    fake_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", code=9)
    with pytest.raises(ConfigurationError, match=r"gpus='all': nvidia-smi -L lists no GPU on this machine "
                                                  r"\(NVIDIA-SMI has failed.*leave gpus out"):
        plan_slots(gpus="all")
    (tmp_path / "nvidia-smi").unlink()
    with pytest.raises(ConfigurationError, match=r"gpus='all': no GPU is visible on this machine \(nvidia-smi -L "
                                                  r"could not run"):
        plan_slots(gpus="all")
