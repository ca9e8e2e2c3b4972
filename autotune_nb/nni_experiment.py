"""An NNI experiment folder run as a study: its config, its search space and its trial command.

``run_nni_experiment("config.yml")`` is this package's ``nnictl create``: the config is read
(``nni_config.py``: fields not honoured are ``NniConfigWarning``s), a study is created with its
search space, tuner, assessor and direction, and each trial runs the config's ``trialCommand`` in
``trialCodeDirectory`` (relative to the config's folder, as in NNI) as a subprocess
(``execution/command_trial.py``), in a slot of the pool the file's concurrency and GPUs describe.

With ``useAnnotation: true`` the search space is the one the code folder's annotated ``.py`` files
declare; the folder is copied to ``<study folder>/code`` with those files transformed
(``nni_annotations.annotate_file``), and the trials run there.

Example:
    >>> study = run_nni_experiment("mnist/config.yml", max_trials=10)   # doctest: +SKIP
    >>> study.best.value                                                # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import shutil
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, SearchSpaceError
from .execution.base import Pool
from .execution.command_trial import CommandTrial, end_trial_group, write_shim
from .nni_annotations import annotate_file
from .nni_config import NniExperiment, read_nni_config
from .space import SearchSpace
from .study import Study, TrialEvent
from .trial import TrialState
from .vocabulary import EventKind

#: What ``run_nni_experiment`` takes besides the config: ``Study`` settings, then ``Study.run`` options.
STUDY_SETTINGS = ("tuner", "tuner_args", "assessor", "assessor_args", "direction", "seed", "name", "storage")
RUN_OPTIONS = ("max_trials", "max_duration", "trial_timeout", "max_failures", "executor", "concurrency", "gpus",
               "trials_per_gpu")
#: Trials run when neither the file (maxTrialNumber) nor the caller says: ``Study.run``'s default.
DEFAULT_MAX_TRIALS = inspect.signature(Study.run).parameters["max_trials"].default


@dataclasses.dataclass
class CommandExperiment:
    """A study ready to run an experiment's trial command (``prepare_nni_experiment``)."""

    study: Study
    trial: CommandTrial
    run_options: dict[str, Any]
    resume: bool = False

    def run(self) -> Study:
        """Run the study (``Study.run``, or ``resume``); returns it. A trial the study ends from outside
        (timeout, stop, Ctrl-C) has its process group killed at once."""
        unsubscribe = self.study.subscribe(self._end_process_group)
        try:
            (self.study.resume if self.resume else self.study.run)(self.trial, **self.run_options)
        finally:
            unsubscribe()
        return self.study

    def _end_process_group(self, event: TrialEvent) -> None:
        if event.kind == EventKind.FINISHED and event.trial.state in (TrialState.CANCELED, TrialState.TIMEOUT):
            end_trial_group(self.trial.study_folder, event.trial.number)


def run_nni_experiment(config: str | os.PathLike | NniExperiment, **overrides: Any) -> Study:
    """Run the NNI experiment of ``config`` (its path, or the ``NniExperiment`` read from it); returns
    the study. ``overrides``: any ``Study`` setting (``name``, ``seed``, ``storage``, ``tuner``, ...), any
    ``Study.run`` option (``max_trials``, ``concurrency``, ``gpus``, ``trial_timeout``, ...), and
    ``resume=True`` to continue the stored study ``name``. They win over the file's fields."""
    return prepare_nni_experiment(config, **overrides).run()


def prepare_nni_experiment(config: str | os.PathLike | NniExperiment, *, resume: bool = False,
                           **overrides: Any) -> CommandExperiment:
    """The study of ``config`` created (or loaded, with ``resume``) and its trial command prepared,
    not run: everything that can be refused is refused here (see ``run_nni_experiment``)."""
    experiment = config if isinstance(config, NniExperiment) else read_nni_config(config)
    unknown = sorted(set(overrides) - set(STUDY_SETTINGS) - set(RUN_OPTIONS))
    if unknown:
        raise ConfigurationError(f"run_nni_experiment got {', '.join(map(repr, unknown))}: it takes the Study "
                                 f"settings {', '.join(STUDY_SETTINGS)}, the run options {', '.join(RUN_OPTIONS)} "
                                 "and resume")
    config_file = Path(experiment.path)
    if not experiment.trial_command:
        raise ConfigurationError(f"{config_file.name} has no trialCommand (v1: trial.command): an experiment run "
                                 "from its folder needs the command that runs one trial")
    code_dir = (config_file.parent / os.path.expanduser(experiment.code_dir or ".")).resolve()
    if not code_dir.is_dir():
        raise ConfigurationError(f"{config_file.name}: trialCodeDirectory {experiment.code_dir!r} is not a folder "
                                 f"({code_dir})")
    annotated = _annotated_files(code_dir) if experiment.use_annotation else {}
    space = _annotation_space(annotated, config_file.name) if experiment.use_annotation else experiment.space
    if not space:
        raise ConfigurationError(f"{config_file.name} has no search space (searchSpace, searchSpaceFile or "
                                 "searchSpacePath; with useAnnotation, the code folder's @nni annotations)")
    study = _open_study(experiment, space, resume, {k: v for k, v in overrides.items() if k in STUDY_SETTINGS})
    folder = study.folder
    shim = write_shim(os.path.join(folder, "nni_shim"))
    run_dir = _annotated_copy(code_dir, annotated, os.path.join(folder, "code")) if annotated else str(code_dir)
    file_options = experiment.run_options()
    if isinstance(overrides.get("executor"), Pool):  # a pool given has its own slots (Study.run refuses others)
        file_options = {k: v for k, v in file_options.items() if k not in ("concurrency", "gpus", "trials_per_gpu")}
    options = {"max_trials": DEFAULT_MAX_TRIALS, **file_options,
               **{k: v for k, v in overrides.items() if k in RUN_OPTIONS}}
    return CommandExperiment(study, CommandTrial(experiment.trial_command, run_dir, folder, shim), options, resume)


def _open_study(experiment: NniExperiment, space: dict, resume: bool, settings: dict[str, Any]) -> Study:
    if not resume:
        settings = {**experiment.study_settings(), **settings}
        settings.pop("space")
        return Study.create(space, **settings)
    name = settings.get("name")
    if name is None:
        raise ConfigurationError("resume needs name=...: the stored study to continue")
    study = Study.load(name, storage=settings.get("storage", True))
    if study.space.to_nni() != SearchSpace(space).to_nni():
        raise ConfigurationError(f"resume {name!r}: the experiment's search space differs from the stored study's; "
                                 "resume with the same space, or start a new study under another name")
    return study


def _annotated_files(code_dir: Path) -> dict[Path, tuple[str, dict]]:
    """The code folder's annotated ``.py`` files: relative path -> (transformed source, search space)."""
    found = {}
    for path in sorted(code_dir.rglob("*.py")):
        relative = path.relative_to(code_dir)
        try:
            annotated = annotate_file(path.read_text(encoding="utf-8"), str(relative))
        except SyntaxError as exc:
            raise SearchSpaceError(f"{relative}: not Python ({exc.msg}, line {exc.lineno}): cannot read its "
                                   "annotations") from None
        if annotated is not None:
            found[relative] = annotated
    return found


def _annotation_space(annotated: dict[Path, tuple[str, dict]], config_name: str) -> dict:
    """The union of the files' spaces; one name in two files must have one distribution."""
    space: dict[str, dict] = {}
    where: dict[str, Path] = {}
    for relative, (_, file_space) in annotated.items():
        for name, spec in file_space.items():
            if name in space and space[name] != spec:
                raise SearchSpaceError(f"{config_name} (useAnnotation): parameter {name!r} is {space[name]} in "
                                       f"{where[name]} but {spec} in {relative}: one name, one distribution")
            space.setdefault(name, spec)
            where.setdefault(name, relative)
    if not annotated:
        raise SearchSpaceError(f"{config_name}: useAnnotation is true, but no .py file of the code folder has an "
                               "@nni annotation")
    return space


def _annotated_copy(code_dir: Path, annotated: dict[Path, tuple[str, dict]], target: str) -> str:
    """The per-study copy of the code folder, its annotated files transformed; returns ``target``."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(code_dir, target)
    for relative, (source, _) in annotated.items():
        Path(target, relative).write_text(source, encoding="utf-8")
    return target
