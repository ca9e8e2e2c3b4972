"""The rules of a pool's size: counts of slots, what a GPU id is, and how GPUs become slots.

Each rule lives here once; the pools, ``Study.run`` and the ``%%autotune`` magic ask these
functions, so a setting is accepted or refused the same way (with the same words) wherever it is given.

Example:
    >>> [slot.gpu for slot in plan_slots(gpus=[0, "GPU-8932f937"], trials_per_gpu=2)]
    ['0', 'GPU-8932f937', '0', 'GPU-8932f937']
    >>> gpu_id("MIG-GPU-8932f937-d72c-4106-c12f-20bd9faed9f6/1/0")
    'MIG-GPU-8932f937-d72c-4106-c12f-20bd9faed9f6/1/0'
    >>> visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"})
    ['2', '3']
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any, Mapping, Sequence

from ..errors import ConfigurationError
from ..numeric import is_integer, shown
from .base import Slot

#: What a GPU id is, in the words every refusal of one uses: the forms CUDA_VISIBLE_DEVICES takes.
GPU_ID_RULE = ("an index >= 0, a GPU UUID as nvidia-smi -L shows it (GPU-<hex>; a unique prefix will do) "
               "or a MIG device (MIG-<uuid>, or MIG-GPU-<uuid>/<instance>/<compute instance>)")

#: ``gpus="all"``: every GPU this machine lets its processes see (``visible_gpus``).
ALL_GPUS = "all"

_GPU_ID = re.compile(r"\d+|GPU-[0-9a-f][0-9a-f-]*|MIG-[0-9a-f][0-9a-f-]*|MIG-GPU-[0-9a-f][0-9a-f-]*/\d+/\d+",
                     re.IGNORECASE)


def check_count(label: str, value: Any) -> None:
    """Refuse ``value`` unless it is an integer >= 1 (a concurrency, trials per GPU)."""
    if not is_integer(value) or value < 1:
        raise ConfigurationError(f"{label} must be an integer >= 1, got {shown(value)}")


def gpu_id(value: Any) -> str:
    """One GPU as ``CUDA_VISIBLE_DEVICES`` names it; an index comes back as its decimal string
    (``1`` and ``"01"`` are both ``"1"``, so a repeated GPU is caught). Refuses anything else,
    naming the value and the rule."""
    if is_integer(value) and value >= 0:
        return str(int(value))
    if isinstance(value, str) and _GPU_ID.fullmatch(value):
        return str(int(value)) if value.isdigit() else value
    raise ConfigurationError(f"{value!r} is not a GPU id; a GPU id is {GPU_ID_RULE}")


def visible_gpus(environ: Mapping[str, str] | None = None) -> list[str]:
    """The ids ``gpus="all"`` stands for: those in ``CUDA_VISIBLE_DEVICES`` when it is set, else each
    GPU that ``nvidia-smi -L`` lists, by UUID (the UUID names the same device whatever order CUDA
    enumerates in; a GPU split into MIG devices stands for its MIG devices). Refuses, saying why, on a
    machine where no GPU is visible."""
    environ = os.environ if environ is None else environ
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        ids = [part.strip() for part in listed.split(",") if part.strip()]
        if not ids or ids[0] == "-1":  # CUDA reads up to the first invalid id: "-1" hides every GPU
            raise ConfigurationError(f"gpus='all': CUDA_VISIBLE_DEVICES={listed!r} hides every GPU from this "
                                     "process; unset it, or leave gpus out to run CPU-only trials")
        try:
            return gpu_ids(ids)
        except ConfigurationError as exc:
            raise ConfigurationError(f"gpus='all': CUDA_VISIBLE_DEVICES={listed!r}: {exc}") from None
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(f"gpus='all': no GPU is visible on this machine (nvidia-smi -L could not run: "
                                 f"{exc}); leave gpus out to run CPU-only trials") from None
    ids = _nvidia_smi_ids(listing.stdout)
    if listing.returncode != 0 or not ids:
        said = (listing.stderr or listing.stdout).strip().splitlines()
        raise ConfigurationError(f"gpus='all': nvidia-smi -L lists no GPU on this machine"
                                 f"{f' ({said[0]})' if said else ''}; leave gpus out to run CPU-only trials")
    return ids


def _nvidia_smi_ids(listing: str) -> list[str]:
    """The UUIDs of ``nvidia-smi -L``: one per GPU line, or the MIG lines' UUIDs under a GPU that has them."""
    ids: list[str] = []
    gpu: str | None = None
    for line in listing.splitlines():
        uuid = re.search(r"\(UUID: ((?:GPU|MIG)-[^)\s]+)\)", line)
        if uuid is None:
            continue
        if uuid.group(1).startswith("MIG-"):
            if gpu is not None and ids and ids[-1] == gpu:
                ids.pop()  # a GPU in MIG mode runs CUDA only on its MIG devices
            ids.append(uuid.group(1))
        else:
            gpu = uuid.group(1)
            ids.append(gpu)
    return ids


def gpu_ids(gpus: Any) -> list[str]:
    """The ids of a ``gpus=[...]`` list, each GPU named once; ``gpus="all"``: ``visible_gpus()``."""
    if gpus == ALL_GPUS:
        return visible_gpus()
    if isinstance(gpus, (str, bytes)) or not isinstance(gpus, Sequence):
        raise ConfigurationError(f"gpus must be a list of GPU ids such as [0, 1], or 'all', got {gpus!r}")
    if not gpus:
        raise ConfigurationError("gpus=[] names no GPU: leave gpus out to run CPU-only trials")
    ids = []
    for gpu in gpus:
        try:
            ids.append(gpu_id(gpu))
        except ConfigurationError as exc:
            raise ConfigurationError(f"gpus: {exc}; give one device per entry, e.g. gpus=[0, 1]") from None
    repeated = sorted({gpu for gpu in ids if ids.count(gpu) > 1})
    if repeated:
        raise ConfigurationError(
            f"gpus lists GPU {repeated[0]!r} more than once: to run several trials per GPU use trials_per_gpu"
        )
    return ids


def plan_slots(concurrency: int | None = None, gpus: Sequence[int | str] | str | None = None,
               trials_per_gpu: int = 1) -> list[Slot]:
    """The slots for a concurrency or a GPU list (or ``"all"``); refuses settings that contradict each other.

    With ``gpus``, slot ``i`` gets ``gpus[i % len(gpus)]``, so the first trials spread over the GPUs.
    """
    check_count("trials_per_gpu", trials_per_gpu)
    if concurrency is not None:
        check_count("concurrency", concurrency)
    if gpus is None:
        if trials_per_gpu != 1:
            raise ConfigurationError(
                f"trials_per_gpu={trials_per_gpu} needs gpus=[...]: without GPUs use concurrency= instead"
            )
        return [Slot(i) for i in range(concurrency or 1)]
    ids = gpu_ids(gpus)
    count = len(ids) * trials_per_gpu
    if concurrency is not None and concurrency != count:
        raise ConfigurationError(
            f"concurrency={concurrency} disagrees with gpus={ids!r} x trials_per_gpu={trials_per_gpu} "
            f"= {count} slots: leave concurrency out (it follows from gpus) or change trials_per_gpu"
        )
    return [Slot(i, ids[i % len(ids)]) for i in range(count)]
