"""The GPU check: a ``%%autotune --gpus all --trials-per-gpu 2`` study whose trials train a small torch
model on CUDA, on a real kernel, with what each trial saw checked and the GPUs' use measured.

One command on a bare GPU machine, from a checkout of this repository (under 5 minutes there)::

    python benchmarks/gpu_check.py [--trials N] [--trials-per-gpu 2] [--train-seconds 3]

It first installs with pip what is missing: the package's own dependencies (from pyproject.toml; the
package itself runs from this checkout, so no Node.js build is needed), nbclient/nbformat, and
torch (PyPI's Linux wheel bundles CUDA; ``--torch-index-url`` picks another, e.g. a cu124 index).
On a machine without a GPU it says so and exits 0, before installing torch.

Each trial records ``torch.cuda.device_count()``, the device's name, UUID and PCI bus id, and its
start and end. The check asserts that every trial succeeded, saw exactly one device and that device
is its slot's GPU (matched by UUID or PCI bus id through ``nvidia-smi``), and that no GPU ever ran
more than ``--trials-per-gpu`` trials at once. It prints each GPU's utilisation and memory (sampled
with ``nvidia-smi`` every 0.5 s while the study runs), with its slots, and the per-trial overhead (the
study's time for a trial less the time its code ran, and the first trial's CUDA start-up per worker).
Exit code 0: all checks held (or no GPU); 1: a check failed (each failure is printed).
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

#: Installed on top of the package's dependencies: what runs the notebook.
RUNNER_PACKAGES = ["nbclient>=0.10", "nbformat>=5.9"]


# --- installing --------------------------------------------------------------------------------------
def missing(requirements: list[str]) -> list[str]:
    """The requirements whose distribution is not installed (versions are left to pip)."""
    absent = []
    for requirement in requirements:
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            absent.append(requirement)
    return absent


def project_dependencies() -> list[str]:
    """``[project] dependencies`` of this checkout's pyproject.toml."""
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.MULTILINE | re.DOTALL).group(1)
    return re.findall(r'"([^"]+)"', block)


def pip_install(requirements: list[str], *extra: str) -> None:
    print(f"gpu_check: installing {' '.join(requirements)}", flush=True)
    if subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *extra, *requirements]).returncode:
        sys.exit("gpu_check: pip could not install them (above). A system Python may refuse (PEP 668): run it "
                 "from a virtual environment: python3 -m venv .venv && .venv/bin/python benchmarks/gpu_check.py")


# --- the GPUs, as nvidia-smi sees them ----------------------------------------------------------------
def gpu_table() -> list[dict[str, str]]:
    """Every GPU: index, uuid, pci.bus_id, name."""
    out = subprocess.run(["nvidia-smi", "--query-gpu=index,uuid,pci.bus_id,name", "--format=csv,noheader"],
                         capture_output=True, text=True, check=True).stdout
    return [dict(zip(("index", "uuid", "pci", "name"), (part.strip() for part in line.split(",", 3))))
            for line in out.splitlines() if line.strip()]


class UtilisationSampler(threading.Thread):
    """Samples each GPU's utilisation (%) and memory used (MiB) with nvidia-smi every ``interval`` s."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval, self.samples = interval, collections.defaultdict(list)
        self._stopping = threading.Event()  # not ``_stop``: threading.Thread has a method of that name

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            out = subprocess.run(["nvidia-smi", "--query-gpu=uuid,utilization.gpu,memory.used",
                                  "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
            for line in out.splitlines():
                uuid, used, memory = (part.strip() for part in line.split(","))
                if used.isdigit():
                    self.samples[uuid].append((int(used), float(memory)))

    def stop(self) -> None:
        self._stopping.set()
        self.join()


# --- the study, on a real kernel ----------------------------------------------------------------------
TRIAL_CELL = """\
%%autotune --gpus all --trials-per-gpu {per_gpu} --trials {trials} --tuner Random --seed 0 --name gpu_check
lr = at.loguniform(1e-3, 3e-2)
width = at.choice([128, 256, 512])
import os, time
t0 = time.time()
import torch
torch.cuda.init()
cuda_ready = time.time()
props = torch.cuda.get_device_properties(0)
bus = (f"{{props.pci_domain_id:08X}}:{{props.pci_bus_id:02X}}:{{props.pci_device_id:02X}}.0"
       if hasattr(props, "pci_bus_id") else None)
device = torch.device("cuda:0")
torch.manual_seed(0)
X = torch.randn(8192, 64, device=device)
y = (X[:, :8].sum(dim=1, keepdim=True) > 0).float()
model = torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                            torch.nn.ReLU(), torch.nn.Linear(width, 1)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
loss_fn = torch.nn.BCEWithLogitsLoss()
steps = 0
while time.time() - cuda_ready < {train_seconds}:
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    steps += 1
torch.cuda.synchronize()
{{"default": -float(loss), "device_count": torch.cuda.device_count(), "name": props.name,
  "uuid": str(getattr(props, "uuid", "")) or None, "bus": bus, "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
  "steps": steps, "pid": os.getpid(), "t0": t0, "cuda_s": cuda_ready - t0, "t1": time.time()}}
"""

DUMP_CELL = """\
import json
print("TRIALS " + json.dumps([dict(number=t.number, state=t.state.value, gpu=t.gpu, slot=t.slot,
                                   started=t.started_at, finished=t.finished_at, metrics=dict(t.metrics),
                                   error=t.error, reason=t.reason) for t in _study.trials]))
"""


def run_study(trials: int, per_gpu: int, train_seconds: float) -> tuple[list[dict], float]:
    """Run the notebook on a real kernel; the trials as the study recorded them, and the run's seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "%load_ext autotune_nb",
        TRIAL_CELL.format(per_gpu=per_gpu, trials=trials, train_seconds=train_seconds),
        DUMP_CELL)]
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as folder:
        os.environ["AUTOTUNE_NB_STORE"] = os.path.join(folder, "autotune_nb.db")
        began = time.perf_counter()
        NotebookClient(nb, kernel_name="python3", timeout=240,
                       resources={"metadata": {"path": folder}}).execute()
        seconds = time.perf_counter() - began
    text = "".join(out.get("text", "") for out in nb.cells[2].outputs if out.output_type == "stream")
    return json.loads(text.split("TRIALS ", 1)[1]), seconds


# --- the checks ---------------------------------------------------------------------------------------
def same_device(slot_gpu: str, metrics: dict, table: list[dict[str, str]]) -> bool:
    """Whether the device a trial used is its slot's GPU (slot ids: indices, GPU UUIDs or MIG UUIDs)."""
    expected = next((row for row in table if slot_gpu == row["index"]
                     or row["uuid"].lower().startswith(slot_gpu.lower())), None)  # a UUID or its unique prefix
    if expected is None:  # a MIG device: its UUID is the slot's id
        return bool(metrics["uuid"]) and metrics["uuid"].lower() in slot_gpu.lower()
    if metrics["uuid"]:
        return expected["uuid"].lower().endswith(metrics["uuid"].lower())
    return metrics["bus"] is not None and metrics["bus"].lower() == expected["pci"].lower()


def check(trials: list[dict], per_gpu: int, table: list[dict[str, str]]) -> list[str]:
    from autotune_nb.testing.scripted import max_overlap

    failures = []
    for trial in trials:
        if trial["state"] != "SUCCEEDED":
            failures.append(f"trial {trial['number']} {trial['state']}: {trial['reason']}\n{trial['error'] or ''}")
            continue
        metrics = trial["metrics"]
        if metrics["device_count"] != 1:
            failures.append(f"trial {trial['number']} saw {metrics['device_count']} devices "
                            f"(CUDA_VISIBLE_DEVICES={metrics['visible']!r}), not 1")
        if not same_device(trial["gpu"], metrics, table):
            failures.append(f"trial {trial['number']} of slot GPU {trial['gpu']} ran on {metrics['name']} "
                            f"uuid {metrics['uuid']} bus {metrics['bus']}")
    by_gpu = collections.defaultdict(list)
    for trial in trials:
        if trial["state"] == "SUCCEEDED":
            by_gpu[trial["gpu"]].append((trial["metrics"]["t0"], trial["metrics"]["t1"]))
    for gpu, intervals in by_gpu.items():
        if max_overlap(intervals) > per_gpu:
            failures.append(f"GPU {gpu} ran {max_overlap(intervals)} trials at once, more than {per_gpu}")
    return failures


def report(trials: list[dict], per_gpu: int, table: list[dict[str, str]], sampler: UtilisationSampler,
           seconds: float) -> None:
    from autotune_nb.testing.scripted import max_overlap

    print(f"{len(trials)} trials in {seconds:.1f} s on {len(table)} GPU(s), {per_gpu} trials per GPU")
    slots_of = collections.defaultdict(set)
    intervals = collections.defaultdict(list)
    for trial in trials:
        slots_of[trial["gpu"]].add(trial["slot"])
        if trial["state"] == "SUCCEEDED":
            intervals[trial["gpu"]].append((trial["metrics"]["t0"], trial["metrics"]["t1"]))
    for gpu in sorted(slots_of):
        row = next((r for r in table if gpu == r["index"] or r["uuid"].lower().startswith(gpu.lower())), None)
        samples = sampler.samples.get(row["uuid"] if row else gpu, [])
        use = (f"utilisation mean {statistics.mean(s[0] for s in samples):.0f}% max {max(s[0] for s in samples)}%, "
               f"memory max {max(s[1] for s in samples):.0f} MiB ({len(samples)} samples)") if samples else "no samples"
        print(f"  GPU {gpu} ({row['name'] if row else 'MIG'}): slots {sorted(slots_of[gpu])}, "
              f"{max_overlap(intervals[gpu]) if intervals[gpu] else 0} trials at once at most; {use}")
    done = [t for t in trials if t["state"] == "SUCCEEDED"]
    if done:
        overhead = sorted((t["finished"] - t["started"]) - (t["metrics"]["t1"] - t["metrics"]["t0"]) for t in done)
        cuda = sorted(t["metrics"]["cuda_s"] for t in done)
        print(f"  per-trial overhead (study time less the trial's own): median {1000 * statistics.median(overhead):.0f} ms,"
              f" max {1000 * overhead[-1]:.0f} ms; torch import + CUDA init in the trial: first "
              f"{max(cuda):.2f} s, median {statistics.median(cuda):.2f} s; training steps per trial: median "
              f"{statistics.median(t['metrics']['steps'] for t in done):.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=None, help="default: 4 per slot, at most 64")
    parser.add_argument("--trials-per-gpu", type=int, default=2)
    parser.add_argument("--train-seconds", type=float, default=3.0, help="training time of each trial")
    parser.add_argument("--torch-index-url", default=None, help="pip index for the torch wheel (default: PyPI)")
    args = parser.parse_args()

    absent = missing(project_dependencies() + RUNNER_PACKAGES)
    if absent:
        pip_install(absent)
    from autotune_nb.errors import ConfigurationError
    from autotune_nb.execution.slots import visible_gpus

    try:
        gpus = visible_gpus()
    except ConfigurationError as exc:
        print(f"gpu_check: no GPU on this machine, nothing to check ({exc})")
        return 0
    if missing(["torch"]):
        pip_install(["torch"], *(["--index-url", args.torch_index_url] if args.torch_index_url else []))
    import torch

    if torch.version.cuda is None:
        print(f"gpu_check: torch {torch.__version__} here is a CPU-only build; install a CUDA one "
              "(pip install --force-reinstall torch, or --torch-index-url)")
        return 1
    table = gpu_table()
    trials = args.trials or min(64, 4 * len(gpus) * args.trials_per_gpu)
    print(f"gpu_check: torch {torch.__version__} (CUDA {torch.version.cuda}); GPUs {gpus}; {trials} trials")
    sampler = UtilisationSampler()
    sampler.start()
    try:
        records, seconds = run_study(trials, args.trials_per_gpu, args.train_seconds)
    finally:
        sampler.stop()
    report(records, args.trials_per_gpu, table, sampler, seconds)
    failures = check(records, args.trials_per_gpu, table)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("gpu_check: all checks held" if not failures else f"gpu_check: {len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
