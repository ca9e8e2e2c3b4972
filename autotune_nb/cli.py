"""``autotune-nb``: the terminal's way in, this package's ``nnictl``.

    autotune-nb nni PATH/config.yml [--trials N] [--concurrency N] [--gpus 0,1] [--name NAME] [--resume]
                                    [--cluster tcp://host:8786]
    autotune-nb list
    autotune-nb show NAME
    autotune-nb export NAME FILE.json

``nni`` runs an NNI experiment folder (``nni_experiment.py``), printing one line per finished trial
and a summary at the end; Ctrl-C cancels the running trials (their process groups end), keeps every
finished one and exits with status 130. All commands use the store ``--store PATH`` (default: the
``AUTOTUNE_NB_STORE`` variable, else ``autotune_nb.db`` in the working folder), the one the
notebook's ``%autotune`` uses.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Sequence

from .errors import AutotuneError, NniConfigWarning
from .trial import Trial, TrialState
from .vocabulary import EventKind

INTERRUPTED_STATUS = 130  # the shell's status of a command ended by Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except (AutotuneError, OSError) as exc:
        print(f"autotune-nb {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # before or after a run (during one, the run cancels its trials itself)
        print(f"autotune-nb {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autotune-nb", description="Run NNI experiments and read the study store.")
    parser.add_argument("--store", default=None, help="the SQLite store (default: $AUTOTUNE_NB_STORE or ./autotune_nb.db)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    nni = commands.add_parser("nni", help="run an NNI experiment (config.yml with a trialCommand)")
    nni.add_argument("config", help="the experiment's config file (NNI v1 or v2)")
    nni.add_argument("--trials", type=int, default=None, help="trials to run (default: maxTrialNumber, else 30)")
    nni.add_argument("--concurrency", type=int, default=None, help="trials at once (default: trialConcurrency)")
    nni.add_argument("--gpus", default=None, help="GPU ids, e.g. 0,1, or all (default: gpuIndices)")
    nni.add_argument("--trials-per-gpu", type=int, default=None, help="trials sharing one GPU")
    nni.add_argument("--name", default=None, help="the study's name (default: experimentName and a suffix)")
    nni.add_argument("--resume", action="store_true", help="continue the stored study --name")
    nni.add_argument("--seed", type=int, default=None, help="the tuner's random seed")
    nni.add_argument("--cluster", default=None, help="run the trials on a Dask cluster: its scheduler address")
    nni.set_defaults(handler=_run_nni)
    commands.add_parser("list", help="the studies in the store").set_defaults(handler=_list)
    show = commands.add_parser("show", help="a study's trials and best result")
    show.add_argument("name")
    show.set_defaults(handler=_show)
    export = commands.add_parser("export", help="write a study as a JSON document")
    export.add_argument("name")
    export.add_argument("path")
    export.set_defaults(handler=_export)
    return parser


def trial_line(trial: Trial) -> str:
    """One finished trial: number, state, value or reason, parameters."""
    shown = f"{trial.value:.6g}" if trial.value is not None else (trial.reason or "")
    log = f"  (output: {trial.log_path})" if trial.state == TrialState.FAILED and trial.log_path else ""
    return f"trial {trial.number:>4} {trial.state.value:13} {shown}  {dict(trial.params)}{log}"


def study_summary(study) -> str:
    counts = ", ".join(f"{n} {state.lower()}" for state, n in study.counts().items() if n)
    best = study.best
    found = f"best {best.value:.6g} (trial {best.number}) with {dict(best.params)}" if best else "no trial succeeded"
    ended = f"; {study.stop_reason}" if study.stop_reason else ""
    return f"study {study.name!r}: {len(study.trials)} trials ({counts or 'none'}); {found}{ended}"


def _storage(args) -> str | bool:
    return args.store if args.store is not None else True


def _run_nni(args) -> int:
    from .execution.slots import ALL_GPUS
    from .nni_config import read_nni_config
    from .nni_experiment import prepare_nni_experiment

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NniConfigWarning)
        experiment = read_nni_config(args.config)
    for message in experiment.warnings:
        print(f"NniConfigWarning: {message}", file=sys.stderr)
    overrides = {"max_trials": args.trials, "concurrency": args.concurrency, "trials_per_gpu": args.trials_per_gpu,
                 "name": args.name, "seed": args.seed}
    if args.gpus is not None:
        overrides["gpus"] = ALL_GPUS if args.gpus.strip().lower() == ALL_GPUS else [
            gpu.strip() for gpu in args.gpus.split(",") if gpu.strip()]
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if args.cluster is not None:
        from .execution.dask_pool import DaskPool

        slots = {key: overrides.pop(key) for key in ("concurrency", "gpus", "trials_per_gpu") if key in overrides}
        overrides["executor"] = DaskPool(args.cluster, **{"concurrency": experiment.concurrency, **slots})
    prepared = prepare_nni_experiment(experiment, resume=args.resume, storage=_storage(args), **overrides)
    study = prepared.study
    print(f"study {study.name!r}: {experiment.trial_command!r} in {prepared.trial.code_dir}", flush=True)

    def print_finished(event) -> None:
        if event.kind == EventKind.FINISHED:
            print(trial_line(event.trial), flush=True)

    study.subscribe(print_finished)
    prepared.run()
    print(study_summary(study), flush=True)
    return INTERRUPTED_STATUS if study.stop_reason == "interrupted" else 0


def _list(args) -> int:
    from .store import open_store

    rows = open_store(_storage(args)).list_studies()
    if not rows:
        print("no study in the store yet")
    for row in rows:
        best = "-" if row.best_value is None else f"{row.best_value:.6g}"
        problem = f"  ({row.problem})" if row.problem else ""
        print(f"{row.name:24} {row.state:10} {row.tuner:12} {row.n_trials:>6}  {best}{problem}")
    return 0


def _show(args) -> int:
    from .study import Study

    study = Study.load(args.name, storage=_storage(args))
    for trial in study.trials:
        print(trial_line(trial))
    print(study_summary(study))
    return 0


def _export(args) -> int:
    from .study import Study

    Study.load(args.name, storage=_storage(args)).to_json(args.path)
    print(f"study {args.name!r} written to {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
