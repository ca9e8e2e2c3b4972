"""``%%autotune``: a notebook cell becomes a study; ``%autotune``: list, show, export, import, stop.

The options follow NNI's experiment configuration; ``%%autotune?`` prints them all.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import warnings
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, needs_local_scope, output_can_be_silenced
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..assessors import available_assessors
from ..errors import AutotuneError, NniConfigWarning
from ..execution.scratch import make_run_folder, remove_run_folder
from ..execution.slots import ALL_GPUS, gpu_id, plan_slots
from ..numeric import seconds_of
from ..space import SearchSpace
from ..trial import TrialState
from ..tuners import available_tuners
from ..views.charts import state_label
from .capture import CellTrial, capture
from .cell import compile_cell
from .cell_wait import run_in_cell, widget_messages_heard
from .dashboard import Dashboard, dashboard



def parse_duration(text: str | None, option: str) -> float | None:
    """``"90"``, ``"90s"``, ``"10m"``, ``"1.5h"``, ``"2d"`` -> seconds."""
    if text is None:
        return None
    seconds = seconds_of(text)
    if seconds is None:
        raise UsageError(f"{option} {text!r} is not a duration: use a positive number with s, m, h or d, e.g. 10m")
    return seconds


def parse_gpus(text: str | None) -> list[str] | str | None:
    """``"0,1"`` -> ``["0", "1"]``; each id must be one the pool takes (``execution.slots.gpu_id``).
    ``"all"`` stays ``"all"``: every visible GPU (``slots.visible_gpus``), or on a cluster every GPU resource."""
    if text is None:
        return None
    if text.strip().lower() == ALL_GPUS:
        return ALL_GPUS
    gpus = [g.strip() for g in text.split(",") if g.strip()]
    if not gpus:
        raise UsageError(f"--gpus {text!r} is not a list of GPU ids: use e.g. --gpus 0,1")
    try:
        return [gpu_id(gpu) for gpu in gpus]
    except AutotuneError as exc:
        raise UsageError(f"--gpus {text!r} is not a list of GPU ids: {exc}; e.g. --gpus 0,1") from None


def parse_json_option(text: str | None, option: str, user_ns: dict) -> dict:
    """A JSON object, or the name of a dict variable."""
    if text is None:
        return {}
    if text in user_ns and isinstance(user_ns[text], dict):
        return dict(user_ns[text])
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option} {text!r} is not a JSON object ({exc}); e.g. {option} '{{\"gamma\": 0.25}}'") from None
    if not isinstance(value, dict):
        raise UsageError(f"{option} {text!r} is not a JSON object; e.g. {option} '{{\"gamma\": 0.25}}'")
    return value


def load_space_option(text: str | None, user_ns: dict) -> dict:
    """``--space``: a dict variable of the notebook, or a path to an NNI search-space JSON file."""
    if text is None:
        return {}
    if text in user_ns:
        value = user_ns[text]
        if isinstance(value, SearchSpace):
            return dict(value.params)
        if isinstance(value, dict):
            return value
        raise UsageError(f"--space {text}: the variable is a {type(value).__name__}, not a dict search space")
    if not os.path.exists(text):
        raise UsageError(f"--space {text!r} is neither a notebook variable nor an existing JSON file")
    return dict(SearchSpace.from_json(text).params)


def read_config_option(path: str):
    """``--config``: the NNI config read, each field it cannot honour printed as a warning in the cell's
    output (every run of the cell, not once per session as Python's warnings are)."""
    from ..nni_config import read_nni_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NniConfigWarning)
        experiment = read_nni_config(path)
    for message in experiment.warnings:
        print(f"NniConfigWarning: {message}", file=sys.stderr)
    return experiment


def apply_config(args, experiment, max_duration, trial_timeout, gpus, tuner_args, assessor_args, file_space):
    """The config's settings where the magic line gives none: ``args`` is updated in place, the parsed
    options come back. The file's classArgs go with the file's tuner (assessor) only."""
    from ..tuners import canonical_tuner_name

    same_tuner = args.tuner is None or experiment.tuner is None or (
        canonical_tuner_name(args.tuner).lower() == experiment.tuner.lower())
    same_assessor = args.assessor is None or (
        experiment.assessor is not None and args.assessor.lower() == experiment.assessor.lower())
    if args.tuner_args is None and same_tuner:
        tuner_args = experiment.tuner_args
    if args.assessor_args is None and same_assessor:
        assessor_args = experiment.assessor_args
    args.tuner = args.tuner or experiment.tuner
    args.assessor = args.assessor or experiment.assessor
    args.direction = args.direction or experiment.direction
    if args.name is None and not args.resume:
        args.name = experiment.study_settings().get("name")
    for option in ("trials", "concurrency", "trials_per_gpu"):
        if getattr(args, option) is None:
            setattr(args, option, getattr(experiment, "max_trials" if option == "trials" else option))
    if args.space is None and experiment.space:
        file_space = dict(SearchSpace(experiment.space).params)
    return (experiment.max_duration if max_duration is None else max_duration,
            experiment.trial_timeout if trial_timeout is None else trial_timeout,
            experiment.gpus if gpus is None else gpus, tuner_args, assessor_args, file_space)


def cluster_pool(value: str, user_ns: dict, concurrency: int | None, gpus: list[str] | str | None,
                 trials_per_gpu: int):
    """``--cluster``: a ``DaskPool`` on the cluster a notebook variable holds (a ``distributed.Client``)
    or on a scheduler address (``dask_pool.cluster_client`` says what either means)."""
    if value.isidentifier() and value not in user_ns:
        raise UsageError(f"--cluster {value}: the notebook has no variable {value!r}, and a scheduler address "
                         "has a port (tcp://host:8786)")
    if isinstance(gpus, list):
        raise UsageError(f"--gpus {','.join(gpus)} with --cluster: Dask places the trials, so name no GPU ids; use "
                         "--gpus all (each trial takes one GPU resource of a worker: dask worker --resources GPU=1)")
    try:
        from ..execution.dask_pool import DaskPool
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    return DaskPool(user_ns.get(value, value), concurrency=concurrency, gpus=gpus, trials_per_gpu=trials_per_gpu)


def check_cell_words(words: list[str]) -> None:
    """On a cell, the only word the magic line takes besides its options is ``space``."""
    if words and words != ["space"]:
        raise UsageError(f"%%autotune: unexpected words {' '.join(words)!r} in the magic line")


def run_options(args, user_ns: dict):
    """The cell magic's options checked, as the run takes them: ``(max_duration, trial_timeout, gpus,
    tuner_args, assessor_args, file_space)``; ``args`` gets its defaults in place. The checks that need
    no study and no cluster are here, so that the lab's form (``line_check``) answers in the magic's words."""
    max_duration = parse_duration(args.timeout, "--timeout")
    trial_timeout = parse_duration(args.trial_timeout, "--trial-timeout")
    gpus = parse_gpus(args.gpus)
    tuner_args = parse_json_option(args.tuner_args, "--tuner-args", user_ns)
    assessor_args = parse_json_option(args.assessor_args, "--assessor-args", user_ns)
    file_space = load_space_option(args.space, user_ns)
    if args.config is not None:  # the file's settings, for the options this line does not give
        max_duration, trial_timeout, gpus, tuner_args, assessor_args, file_space = apply_config(
            args, read_config_option(args.config), max_duration, trial_timeout, gpus, tuner_args,
            assessor_args, file_space)
    args.tuner = args.tuner or "TPE"
    args.trials = 30 if args.trials is None else args.trials
    args.trials_per_gpu = 1 if args.trials_per_gpu is None else args.trials_per_gpu
    if args.trials < 1:
        raise UsageError(f"--trials {args.trials} must be at least 1")
    if args.max_failures is not None and args.max_failures < 0:
        raise UsageError(f"--max-failures {args.max_failures} must be 0 (never stop) or more")
    if args.cluster is None:
        plan_slots(args.concurrency, gpus, args.trials_per_gpu)  # refuses contradicting settings now
    if args.resume and not args.name:
        raise UsageError("--resume needs --name NAME: the study to continue")
    return max_duration, trial_timeout, gpus, tuner_args, assessor_args, file_space


def summary(study) -> str:
    """One line: trials per state and the best result."""
    counts = {state: n for state, n in study.counts().items() if n}
    states = ", ".join(f"{n} {state_label(TrialState(state))}" for state, n in counts.items())
    best = study.best
    found = f"; best {best.value:.6g} with {dict(best.params)}" if best else "; no trial succeeded"
    return f"study {study.name!r}: {len(study.trials)} trials ({states or 'none'}){found}"


@magics_class
class AutotuneMagics(Magics):
    """The ``%%autotune`` cell magic and the ``%autotune`` line magic."""

    def __init__(self, shell):
        super().__init__(shell)
        self.background: dict[str, tuple[Any, threading.Thread]] = {}

    @magic_arguments()
    @argument("--config", default=None, help="an NNI experiment config file (config.yml: NNI v1 or v2, or T9k's AutoTuneExperiment): its settings are the defaults, options on this line override them")
    @argument("--tuner", default=None, help=f"tuner name, case-insensitive: {', '.join(available_tuners())} (default TPE)")
    @argument("--tuner-args", default=None, help="the tuner's classArgs: a JSON object or a dict variable")
    @argument("--trials", type=int, default=None, help="number of trials to run (NNI maxTrialNumber; default 30); with --resume, how many more")
    @argument("--concurrency", type=int, default=None, help="trials at once (default 1, or one per GPU slot)")
    @argument("--gpus", default=None, help="GPU ids (indices, GPU-<uuid> or MIG ids), e.g. 0,1, or all (every visible GPU; with --cluster, the workers' GPU resources): each trial sees only its GPU (CUDA_VISIBLE_DEVICES)")
    @argument("--trials-per-gpu", type=int, default=None, help="concurrent trials per GPU (default 1)")
    @argument("--cluster", default=None, help="run the trials on a Dask cluster: its scheduler address (tcp://host:8786) or a variable holding a distributed.Client")
    @argument("--assessor", default=None, help=f"early stopping by an assessor, case-insensitive: {', '.join(available_assessors())}")
    @argument("--assessor-args", default=None, help="the assessor's classArgs: a JSON object or a dict variable")
    @argument("--maximize", dest="direction", action="store_const", const="maximize", help="maximize the result (default)")
    @argument("--minimize", dest="direction", action="store_const", const="minimize", help="minimize the result")
    @argument("--space", default=None, help="an NNI search-space JSON file or a dict variable; its parameters are bound as variables")
    @argument("--name", default=None, help="the study's name in the store (default: a fresh unique one)")
    @argument("--resume", action="store_true", help="continue the named study from the store")
    @argument("--seed", type=int, default=None, help="random seed of the tuner")
    @argument("--timeout", default=None, help="maximum study duration, e.g. 1h (NNI maxExperimentDuration)")
    @argument("--trial-timeout", default=None, help="maximum duration of one trial, e.g. 10m")
    @argument("--max-failures", type=int, default=None,
              help="stop the run when its first N trials all fail (default 5; 0: never)")
    @argument("--background", action="store_true", help="return at once and run the study from a thread")
    @argument("--out", default="_study", help="variable that receives the study (default _study)")
    @argument("command", nargs="*", help="line magic: list | show NAME | export NAME PATH | import PATH [NAME] | stop NAME | space NAME | compare NAME NAME ... | nni CONFIG; "
              "on a cell, `%%%%autotune space` prints the cell's search space (NNI JSON) and runs nothing")
    @needs_local_scope
    @output_can_be_silenced
    @line_cell_magic
    def autotune(self, line: str = "", cell: str | None = None, local_ns: dict | None = None):
        """Tune the hyperparameters declared in the cell; the cell's last expression is each trial's result.

        In the cell, ``lr = at.loguniform(1e-4, 1e-1)`` declares a parameter (any NNI type:
        choice, randint, uniform, quniform, loguniform, qloguniform, normal, qnormal, lognormal,
        qlognormal); ``at.report(value)`` sends intermediate results for the assessor. Names defined in
        earlier cells (data, functions, classes, modules) are sent to the trial workers once per study.

        As a line magic: ``%autotune list``, ``%autotune show NAME``, ``%autotune export NAME PATH``,
        ``%autotune import PATH [NAME]`` (into the store, under NAME if given), ``%autotune stop NAME``,
        ``%autotune space NAME`` (a stored study's search space, NNI JSON), ``%autotune compare A B C``
        (the stored studies' best-so-far curves on one chart, and their bests), ``%autotune nni
        PATH/config.yml`` (an NNI experiment folder whose trial is its trialCommand; with --trials,
        --concurrency, --gpus, --timeout, --trial-timeout, --name, --resume, --background, --out, --cluster).

        ``%%autotune space`` on a cell (with ``--space`` if any) prints the search space the cell would be
        tuned over, as NNI JSON (declarations, NNI annotations, ``--space``), and runs and stores nothing.
        """
        args = parse_argstring(self.autotune, line)  # a bad option raises UsageError
        user_ns = self.shell.user_ns
        if cell is None and args.command[:1] == ["nni"]:
            return self._nni(args, user_ns)
        if cell is None:
            return self._line_command(args.command, user_ns)
        check_cell_words(args.command)
        try:
            return (self._cell_space if args.command else self._run_cell)(args, cell, user_ns)
        except AutotuneError as exc:
            raise UsageError(str(exc)) from None
        except SyntaxError:
            self.shell.showsyntaxerror()  # "File <autotune cell>:LINE", without the magic's frames
            return None

    # --- the cell magic ----------------------------------------------------------------------------
    def _run_cell(self, args, cell: str, user_ns: dict):
        max_duration, trial_timeout, gpus, tuner_args, assessor_args, file_space = run_options(args, user_ns)
        if args.name in self.background and self.background[args.name][1].is_alive():
            raise UsageError(f"study {args.name!r} is running in the background; `%autotune stop {args.name}` first")
        source = self.shell.transform_cell(cell)
        filename = f"<autotune cell {args.name}>" if args.name else "<autotune cell>"
        program = compile_cell(source, user_ns, filename=filename, space_params=tuple(file_space))
        space = SearchSpace({**file_space, **program.declared})

        # Everything that can fail on the user's input comes before the study enters the store.
        cluster = None if args.cluster is None else cluster_pool(args.cluster, user_ns, args.concurrency, gpus,
                                                                   args.trials_per_gpu)
        folder = make_run_folder()  # removed below; swept by a later run if this process is killed
        try:
            layout = capture(program.reads, user_ns, folder)
            study = self._open_study(args, space, tuner_args, assessor_args)
        except BaseException:
            remove_run_folder(folder)
            if cluster is not None:
                cluster.shutdown()
            raise
        trial = CellTrial(program, folder, layout, cell_text="%%autotune\n" + cell)
        pool_options = (dict(concurrency=args.concurrency, gpus=gpus, trials_per_gpu=args.trials_per_gpu)
                        if cluster is None else dict(executor=cluster))
        run = functools.partial(study.resume if args.resume else study.run, trial, args.trials,
                                max_duration=max_duration, trial_timeout=trial_timeout, max_failures=args.max_failures,
                                **pool_options)
        user_ns[args.out] = study

        def run_and_clean_up() -> None:
            try:
                run()
            finally:
                remove_run_folder(folder)
                if cluster is not None:
                    cluster.shutdown()  # the run did, unless it never started (a busy study)

        return self._run_with_dashboard(study, args, len(study.trials) + args.trials, run_and_clean_up)

    @staticmethod
    def _open_study(args, space: SearchSpace, tuner_args: dict, assessor_args: dict):
        """The stored study to resume (its space must be the cell's), or a new one."""
        from ..study import Study

        if not args.resume:
            return Study.create(space, tuner=args.tuner, tuner_args=tuner_args, assessor=args.assessor,
                                assessor_args=assessor_args, direction=args.direction or "maximize",
                                seed=args.seed, name=args.name)
        study = Study.load(args.name)
        if study.space != space:
            raise UsageError(f"--resume {args.name}: the cell's search space differs from the stored study's; "
                             "resume with the same declarations, or start a new study with another --name")
        return study

    # --- an NNI experiment folder -------------------------------------------------------------------
    def _nni(self, args, user_ns: dict):
        """``%autotune nni PATH/config.yml``: the NNI experiment whose trial is its ``trialCommand``
        (``nni_experiment.py``), with the live dashboard; the line's options win over the file's."""
        from ..nni_experiment import prepare_nni_experiment

        if len(args.command) != 2:
            raise UsageError(f"%autotune nni takes one config file, got {len(args.command) - 1} words; e.g. "
                             "%autotune nni mnist/config.yml --trials 10")
        refused = [option for option, value in (("--config", args.config), ("--space", args.space),
                                                ("--tuner", args.tuner), ("--tuner-args", args.tuner_args),
                                                ("--assessor", args.assessor), ("--assessor-args", args.assessor_args),
                                                ("--maximize/--minimize", args.direction)) if value is not None]
        if refused:
            raise UsageError(f"%autotune nni takes the search space, tuner, assessor and direction from the config "
                             f"file: {', '.join(refused)} is not an option of it")
        if args.resume and not args.name:
            raise UsageError("--resume needs --name NAME: the study to continue")
        if args.name in self.background and self.background[args.name][1].is_alive():
            raise UsageError(f"study {args.name!r} is running in the background; `%autotune stop {args.name}` first")
        overrides: dict[str, Any] = {}
        try:
            experiment = read_config_option(args.command[1])
            gpus = parse_gpus(args.gpus)
            overrides = {"max_trials": args.trials, "max_failures": args.max_failures, "name": args.name,
                         "seed": args.seed, "max_duration": parse_duration(args.timeout, "--timeout"),
                         "trial_timeout": parse_duration(args.trial_timeout, "--trial-timeout")}
            if args.cluster is None:
                overrides.update(concurrency=args.concurrency, gpus=gpus, trials_per_gpu=args.trials_per_gpu)
            else:
                overrides["executor"] = cluster_pool(args.cluster, user_ns, args.concurrency or experiment.concurrency,
                                                     gpus, args.trials_per_gpu or 1)
            prepared = prepare_nni_experiment(experiment, resume=args.resume,
                                              **{k: v for k, v in overrides.items() if v is not None})
        except AutotuneError as exc:
            if "executor" in overrides:
                overrides["executor"].shutdown()
            raise UsageError(str(exc)) from None
        study = user_ns[args.out] = prepared.study
        return self._run_with_dashboard(study, args, len(study.trials) + prepared.run_options["max_trials"],
                                        prepared.run)

    def _run_with_dashboard(self, study, args, total: int, run: Callable[[], None]):
        """Show the live dashboard under the cell and call ``run`` (the study's run): from a thread with
        ``--background`` (returns None), else while the cell waits (``cell_wait``: its Stop is heard, an
        interrupt stops the study) and then prints the summary and returns the study. Stop is offered
        wherever a click can reach the study; else the dashboard says to interrupt the kernel."""
        stop = study.stop if args.background or widget_messages_heard() else None
        view = Dashboard(study, total=total, stop=stop)
        display(view)  # from this thread: the output belongs to this cell, even for a background run

        def followed() -> None:
            with view.following():
                run()

        if args.background:
            self._start_background(study, followed)
            return None
        run_in_cell(followed, on_interrupt=lambda: study.stop("interrupted"))
        print(summary(study))
        return study

    def _start_background(self, study, run: Callable[[], None]) -> None:
        """Call ``run`` (the study's run) from a daemon thread; `%autotune stop NAME` finds it in
        ``self.background``."""
        thread = threading.Thread(target=run, name=f"autotune-{study.name}", daemon=True)
        self.background[study.name] = (study, thread)
        thread.start()
        print(f"study {study.name!r} runs in the background; `%autotune stop {study.name}` ends it")

    # --- line magics -------------------------------------------------------------------------------
    def _line_command(self, words: list[str], user_ns: dict):
        usage = ("use: %autotune list | show NAME | export NAME PATH | import PATH [NAME] | stop NAME | space NAME"
                 " | nni CONFIG [--trials N ...]"
                 " | compare NAME NAME [NAME ...]")
        if not words:
            raise UsageError(usage)
        verb, rest = words[0], words[1:]
        expected = {"list": (0,), "show": (1,), "export": (2,), "import": (1, 2), "stop": (1,), "space": (0, 1),
                    "compare": None}  # None: two or more
        if verb not in expected:
            raise UsageError(f"%autotune {verb!r} is not a command; {usage}")
        if expected[verb] is None and len(rest) < 2:
            raise UsageError(f"%autotune {verb} takes two or more study names, got {len(rest)}; {usage}")
        if expected[verb] is not None and len(rest) not in expected[verb]:
            counts = " or ".join(map(str, expected[verb]))
            raise UsageError(f"%autotune {verb} takes {counts} argument(s), got {len(rest)}; {usage}")
        try:
            return getattr(self, f"_{verb}")(*rest)
        except (AutotuneError, OSError) as exc:  # a bad name, file or folder: one line, not a traceback
            raise UsageError(str(exc)) from None

    def _stop(self, name: str):
        entry = self.background.get(name)
        if entry is None or not entry[1].is_alive():
            running = [n for n, (_, t) in self.background.items() if t.is_alive()]
            raise UsageError(f"no study named {name!r} is running in the background; running: {running or 'none'}")
        study, thread = entry
        study.stop()
        thread.join(timeout=30)
        print(f"study {name!r} stopped: {len(study.trials)} trials kept")
        return None

    def _list(self):
        from ..store import shared_store

        rows = shared_store().list_studies()
        if not rows:
            print("no study in the store yet")
            return None
        header = f"{'name':24} {'state':10} {'tuner':12} {'trials':>6}  best"
        print(header)
        for row in rows:
            best = "-" if row.best_value is None else f"{row.best_value:.6g}"
            problem = f"  ({row.problem})" if row.problem else ""
            print(f"{row.name:24} {row.state:10} {row.tuner:12} {row.n_trials:>6}  {best}{problem}")
        return None

    def _compare(self, *names: str):
        """``%autotune compare A B C``: the stored studies' best-so-far curves and their bests."""
        from ..compare_studies import compare

        comparison = compare(names)
        display(comparison)
        return comparison

    def _show(self, name: str):
        from ..study import Study

        study = Study.load(name)
        display(dashboard(study))
        return study

    def _export(self, name: str, path: str):
        from ..study import Study

        Study.load(name).to_json(path)
        print(f"study {name!r} written to {path}")
        return None

    def _import(self, path: str, name: str | None = None):
        from ..store import shared_store
        from ..study import Study

        store = shared_store()
        study = Study.from_json(path, storage=store, name=name)
        print(f"study {study.name!r} imported from {path} into {store.path}: {len(study.trials)} trials")
        return study

    # --- the search space, shown -------------------------------------------------------------------
    def _space(self, name: str | None = None):
        """``%autotune space NAME``: a stored study's search space as NNI JSON."""
        from ..study import Study

        if name is None:
            raise UsageError("%autotune space NAME prints a stored study's search space; to see a cell's, put "
                             "`%%autotune space` (with its --space, if any) on top of the cell and run it")
        print(_space_json(Study.load(name).space))
        return None

    def _cell_space(self, args, cell: str, user_ns: dict):
        """``%%autotune space``: the cell's search space as NNI JSON (``--space`` or the space of
        ``--config``, declarations, NNI annotations). Compiles the cell: nothing runs, nothing is stored."""
        file_space = load_space_option(args.space, user_ns)
        if args.config is not None and args.space is None:
            experiment = read_config_option(args.config)
            if experiment.space:
                file_space = dict(SearchSpace(experiment.space).params)
        program = compile_cell(self.shell.transform_cell(cell), user_ns, space_params=tuple(file_space))
        space = SearchSpace({**file_space, **program.declared})
        print(_space_json(space))
        return None


def _space_json(space: SearchSpace) -> str:
    """NNI search-space JSON, one parameter a line."""
    lines = [f"  {json.dumps(name)}: {json.dumps(spec, default=repr)}" for name, spec in space.to_nni().items()]
    return "{\n" + ",\n".join(lines) + "\n}"
