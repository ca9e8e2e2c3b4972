"""NNI experiment configs (``config.yml``) as a study's settings and its run's options.

Three forms are read, told apart by their fields: NNI's v1 config (``authorName``,
``trainingServicePlatform``, ``searchSpacePath``, ``maxTrialNum``, ``tuner.builtinTunerName``, ...),
NNI's v2 config (``searchSpace``/``searchSpaceFile``, ``maxTrialNumber``, ``trainingService``, ...) and
T9k's ``AutoTuneExperiment`` (``kind: AutoTuneExperiment``, its settings under ``spec``, the search
space and classArgs as JSON text).

Every value is checked by the rules the rest of the package uses, and a bad one is refused naming the
file and the field (``config.yml: maxTrialNumber must be an integer >= 1, got 'ten'``). A field that
cannot be honoured here (a remote training service, ``nniManagerIp``, an unknown field) is a
``NniConfigWarning`` naming it: never silence. NNI's bookkeeping fields with no meaning here
(``authorName``, ``logLevel``, ``debug``, ...) are accepted silently; the trial command and code folder
are kept (for ``%%autotune --config`` the cell, or the function given to ``run``, is the trial;
``nni_experiment.py`` runs the command itself).

Example:
    >>> experiment = read_nni_config("config.yml")              # doctest: +SKIP
    >>> study = Study.from_nni_config(experiment)               # doctest: +SKIP
    >>> study.run(train, **experiment.run_options())            # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Any, Mapping

import yaml

from .class_args import require_int
from .errors import ConfigurationError, NniConfigWarning, SearchSpaceError
from .execution.slots import gpu_id
from .numeric import is_real, seconds_of, shown
from .vocabulary import DIRECTIONS

#: NNI's bookkeeping fields: they change nothing in what is tuned or how, so they are read silently.
SILENT_FIELDS = frozenset({
    "authorName", "description", "debug", "logLevel", "logDir", "logCollection", "versionCheck",
    "experimentWorkingDirectory", "experimentType",
})



@dataclasses.dataclass(frozen=True)
class NniExperiment:
    """What an NNI config says, in this package's terms; ``None``: the file does not say.

    ``space`` is NNI search-space JSON (``{}`` when the file has none, as under ``useAnnotation``);
    ``direction`` comes from the tuner's (or assessor's) classArgs ``optimize_mode``, which the
    ``*_args`` no longer hold; ``max_duration`` and ``trial_timeout`` are seconds; ``gpus`` are GPU
    ids as strings; ``warnings`` name the fields that are not honoured (each was also warned).
    """

    path: str
    form: str  # "v1" | "v2" | "t9k"
    name: str | None = None
    space: dict = dataclasses.field(default_factory=dict)
    tuner: str | None = None
    tuner_args: dict = dataclasses.field(default_factory=dict)
    assessor: str | None = None
    assessor_args: dict = dataclasses.field(default_factory=dict)
    direction: str = "maximize"
    max_trials: int | None = None
    max_duration: float | None = None
    trial_timeout: float | None = None
    concurrency: int | None = None
    gpus: list[str] | None = None
    trials_per_gpu: int | None = None
    trial_gpus: int | None = None
    use_annotation: bool = False
    trial_command: str | None = None
    code_dir: str | None = None
    warnings: tuple[str, ...] = ()

    def study_settings(self) -> dict[str, Any]:
        """Keyword arguments of ``Study(...)``: space, tuner, classArgs, assessor, direction, and a
        name (``experimentName`` plus a fresh suffix: an NNI experiment has an id besides its name)."""
        settings: dict[str, Any] = {
            "space": self.space, "tuner_args": self.tuner_args, "assessor": self.assessor,
            "assessor_args": self.assessor_args, "direction": self.direction,
        }
        if self.tuner is not None:
            settings["tuner"] = self.tuner
        if self.name is not None:
            settings["name"] = f"{self.name}-{uuid.uuid4().hex[:8]}"
        return settings

    def run_options(self) -> dict[str, Any]:
        """Keyword arguments of ``Study.run``, for the fields the file sets (``max_trials``,
        ``max_duration``, ``trial_timeout``, ``concurrency``, ``gpus``, ``trials_per_gpu``)."""
        options = {"max_trials": self.max_trials, "max_duration": self.max_duration,
                   "trial_timeout": self.trial_timeout, "concurrency": self.concurrency, "gpus": self.gpus,
                   "trials_per_gpu": self.trials_per_gpu}
        return {key: value for key, value in options.items() if value is not None}


def read_nni_config(path: str | os.PathLike) -> NniExperiment:
    """Read an NNI config file (v1, v2 or T9k's AutoTuneExperiment; YAML or JSON).

    A bad value raises ``ConfigurationError`` naming the file and the field; each field that is not
    honoured is a ``NniConfigWarning`` (and is listed in the result's ``warnings``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the NNI config {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path.name}: not YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path.name}: an NNI config is a mapping of fields, got {shown(data)}")
    reader = _Reader(path)
    experiment = reader.read(data)
    for message in experiment.warnings:
        warnings.warn(NniConfigWarning(message), stacklevel=2)
    return experiment


def parse_nni_duration(owner: str, field: str, value: Any) -> float:
    """NNI's durations: a number of seconds, or a number with s, m, h or d (``"1.5h"``) -> seconds."""
    rule = "a positive duration: seconds, or a number with s, m, h or d such as '30m'"
    if is_real(value) and value > 0:
        return float(value)
    seconds = seconds_of(value)
    if seconds is None:
        raise ConfigurationError(f"{owner}: {field} must be {rule}, got {shown(value)}")
    return seconds


def _form(data: Mapping) -> str:
    if data.get("kind") == "AutoTuneExperiment" or ("apiVersion" in data and "spec" in data):
        return "t9k"
    v1 = {"authorName", "trainingServicePlatform", "searchSpacePath", "maxTrialNum", "maxExecDuration",
          "localConfig", "trial", "multiThread", "multiPhase"}
    if v1 & data.keys() or any(isinstance(data.get(key), dict) and ("builtinTunerName" in data[key]
                                                                   or "builtinAssessorName" in data[key])
                               for key in ("tuner", "assessor")):
        return "v1"
    return "v2"


class _Reader:
    """Reads one file's fields, checking each; collects the warnings."""

    def __init__(self, path: Path):
        self.path = path
        self.owner = path.name
        self.warnings: list[str] = []
        self.values: dict[str, Any] = {}

    # --- the three forms -----------------------------------------------------------------------------
    def read(self, data: dict) -> NniExperiment:
        form = _form(data)
        getattr(self, f"_read_{form}")(dict(data))
        self._finish()
        return NniExperiment(path=str(self.path), form=form, warnings=tuple(self.warnings), **self.values)

    def _read_v1(self, data: dict) -> None:
        self._name(data.pop("experimentName", None), "experimentName")
        self._count("concurrency", data.pop("trialConcurrency", None), "trialConcurrency")
        self._duration("max_duration", data.pop("maxExecDuration", None), "maxExecDuration")
        self._count("max_trials", data.pop("maxTrialNum", None), "maxTrialNum")
        self._space_file(data.pop("searchSpacePath", None), "searchSpacePath")
        self._annotation(data.pop("useAnnotation", None), "useAnnotation")
        self._platform(data.pop("trainingServicePlatform", "local"), "trainingServicePlatform")
        self._algorithm("tuner", data.pop("tuner", None), "tuner", "builtinTunerName")
        self._algorithm("assessor", data.pop("assessor", None), "assessor", "builtinAssessorName")
        self._algorithm("tuner", data.pop("advisor", None), "advisor", "builtinAdvisorName")
        trial = self._section(data.pop("trial", None), "trial")
        self._text("trial_command", trial.pop("command", None), "trial.command")
        self._text("code_dir", trial.pop("codeDir", None), "trial.codeDir")
        self._trial_gpus(trial.pop("gpuNum", None), "trial.gpuNum")
        self._unhonoured(trial, "trial.")
        local = self._section(data.pop("localConfig", None), "localConfig")
        self._gpus(local.pop("gpuIndices", None), "localConfig.gpuIndices")
        self._count("trials_per_gpu", local.pop("maxTrialNumPerGpu", None), "localConfig.maxTrialNumPerGpu")
        self._active_gpu(local.pop("useActiveGpu", None), "localConfig.useActiveGpu")
        self._unhonoured(local, "localConfig.")
        self._unhonoured(data)

    def _read_v2(self, data: dict) -> None:
        self._name(data.pop("experimentName", None), "experimentName")
        inline, file = data.pop("searchSpace", None), data.pop("searchSpaceFile", None)
        if inline is not None and file is not None:
            raise ConfigurationError(f"{self.owner}: give searchSpace or searchSpaceFile, not both")
        if inline is not None:
            self._space(inline, "searchSpace")
        self._space_file(file, "searchSpaceFile")
        self._text("trial_command", data.pop("trialCommand", None), "trialCommand")
        self._text("code_dir", data.pop("trialCodeDirectory", None), "trialCodeDirectory")
        self._count("concurrency", data.pop("trialConcurrency", None), "trialConcurrency")
        self._trial_gpus(data.pop("trialGpuNumber", None), "trialGpuNumber")
        self._duration("max_duration", data.pop("maxExperimentDuration", None), "maxExperimentDuration")
        self._count("max_trials", data.pop("maxTrialNumber", None), "maxTrialNumber")
        self._duration("trial_timeout", data.pop("maxTrialDuration", None), "maxTrialDuration")
        self._annotation(data.pop("useAnnotation", None), "useAnnotation")
        self._algorithm("tuner", data.pop("tuner", None), "tuner", "name")
        self._algorithm("assessor", data.pop("assessor", None), "assessor", "name")
        self._algorithm("tuner", data.pop("advisor", None), "advisor", "name")
        service = data.pop("trainingService", None)
        if isinstance(service, list) and len(service) == 1:
            service = service[0]
        if isinstance(service, list):
            self.warnings.append(f"{self.owner}: trainingService: {len(service)} training services (hybrid) are "
                                 "not supported; trials run on this machine")
        elif service is not None:
            service = dict(self._section(service, "trainingService"))
            self._platform(service.pop("platform", None), "trainingService.platform")
            self._gpus(service.pop("gpuIndices", None), "trainingService.gpuIndices")
            self._count("trials_per_gpu", service.pop("maxTrialNumberPerGpu", None),
                        "trainingService.maxTrialNumberPerGpu")
            self._active_gpu(service.pop("useActiveGpu", None), "trainingService.useActiveGpu")
            self._unhonoured(service, "trainingService.")
        self._unhonoured(data)

    def _read_t9k(self, data: dict) -> None:
        data.pop("apiVersion", None)
        kind = data.pop("kind", None)
        if kind != "AutoTuneExperiment":
            raise ConfigurationError(f"{self.owner}: kind must be 'AutoTuneExperiment', got {shown(kind)}")
        metadata = self._section(data.pop("metadata", None), "metadata")
        self._name(metadata.get("name"), "metadata.name")
        spec = dict(self._section(data.pop("spec", None), "spec"))
        self._duration("max_duration", spec.pop("maxExecSeconds", None), "spec.maxExecSeconds")
        self._count("max_trials", spec.pop("maxTrialNum", None), "spec.maxTrialNum")
        self._count("concurrency", spec.pop("trialConcurrency", None), "spec.trialConcurrency")
        space = spec.pop("searchSpace", None)
        if space is not None:
            self._space(self._json_text(space, "spec.searchSpace"), "spec.searchSpace")
        self._algorithm("tuner", spec.pop("tuner", None), "spec.tuner", "builtinTunerName", json_args=True)
        self._algorithm("assessor", spec.pop("assessor", None), "spec.assessor", "builtinAssessorName",
                        json_args=True)
        spec.pop("trial", None)  # a Kubernetes trial template: the cell (or run's function) is the trial
        self._unhonoured(spec, "spec.")
        self._unhonoured(data)

    # --- fields --------------------------------------------------------------------------------------
    def _fail(self, field: str, rule: str, value: Any) -> ConfigurationError:
        return ConfigurationError(f"{self.owner}: {field} must be {rule}, got {shown(value)}")

    def _section(self, value: Any, field: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._fail(field, "a mapping of fields", value)
        return dict(value)

    def _name(self, value: Any, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value.strip():
            raise self._fail(field, "a non-empty string", value)
        self.values["name"] = value.strip()

    def _text(self, key: str, value: Any, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise self._fail(field, "a string", value)
        self.values[key] = value

    def _count(self, key: str, value: Any, field: str) -> None:
        if value is not None:
            self.values[key] = require_int(self.owner, field, value, minimum=1)

    def _duration(self, key: str, value: Any, field: str) -> None:
        if value is not None:
            self.values[key] = parse_nni_duration(self.owner, field, value)

    def _annotation(self, value: Any, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, bool):
            raise self._fail(field, "true or false", value)
        self.values["use_annotation"] = value

    def _trial_gpus(self, value: Any, field: str) -> None:
        if value is not None:
            self.values["trial_gpus"] = require_int(self.owner, field, value, minimum=0)
            self.values["trial_gpus_field"] = field

    def _active_gpu(self, value: Any, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, bool):
            raise self._fail(field, "true or false", value)
        if not value:
            self.warnings.append(f"{self.owner}: {field}: false is not honoured: GPUs that other processes use "
                                 "are not skipped; list the free ones in gpuIndices")

    def _gpus(self, value: Any, field: str) -> None:
        if value is None:
            return
        items = value.split(",") if isinstance(value, str) else [value] if is_real(value) else value
        if not isinstance(items, list) or not items:
            raise self._fail(field, "GPU ids: a list such as [0, 1] or the text '0,1'", value)
        ids = []
        for item in items:
            try:
                ids.append(gpu_id(item.strip() if isinstance(item, str) else item))
            except ConfigurationError as exc:
                raise ConfigurationError(f"{self.owner}: {field}: {exc}") from None
        repeated = sorted({gpu for gpu in ids if ids.count(gpu) > 1})
        if repeated:
            raise ConfigurationError(f"{self.owner}: {field} names GPU {repeated[0]} more than once")
        self.values["gpus"] = ids
        self.values["gpus_field"] = field

    def _platform(self, value: Any, field: str) -> None:
        if value is None or value == "local":
            return
        if not isinstance(value, str):
            raise self._fail(field, "a training service name such as 'local'", value)
        self.warnings.append(f"{self.owner}: {field}: {value!r} is not supported; trials run on this machine "
                             "(the local training service)")

    def _space(self, value: Any, field: str) -> None:
        from .space import SearchSpace

        if not isinstance(value, dict):
            raise self._fail(field, "an NNI search space (a mapping of parameters)", value)
        try:
            self.values["space"] = SearchSpace(value).to_nni()
        except SearchSpaceError as exc:
            raise SearchSpaceError(f"{self.owner}: {field}: {exc}") from None

    def _space_file(self, value: Any, field: str) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value.strip():
            raise self._fail(field, "a path to a search-space file", value)
        file = Path(os.path.expanduser(value))
        if not file.is_absolute():
            file = self.path.parent / file  # as NNI: relative to the config's folder
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"{self.owner}: {field}: cannot read {str(file)!r}: "
                                     f"{exc.strerror or exc}") from None
        try:
            space = yaml.safe_load(text) if file.suffix.lower() in (".yml", ".yaml") else json.loads(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"{self.owner}: {field}: {file.name} is not "
                                     f"{'YAML' if file.suffix.lower() in ('.yml', '.yaml') else 'JSON'} "
                                     f"({' '.join(str(exc).split())})") from None
        self._space(space, f"{field} {file.name}")

    def _json_text(self, value: Any, field: str) -> Any:
        """T9k gives the search space and classArgs as JSON text; a mapping is taken as is."""
        if isinstance(value, dict):
            return value
        if not isinstance(value, str):
            raise self._fail(field, "JSON text of an object", value)
        try:
            return json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{self.owner}: {field} is not JSON ({exc})") from None

    def _algorithm(self, role: str, value: Any, field: str, name_key: str, *, json_args: bool = False) -> None:
        """A tuner, assessor or advisor section: its builtin name and classArgs (optimize_mode moves to
        the direction); custom classes from code files are refused."""
        from .assessors import available_assessors
        from .tuners import available_tuners, canonical_tuner_name

        section = self._section(value, field)
        if not section:
            return
        if role == "tuner" and "tuner" in self.values:
            raise ConfigurationError(f"{self.owner}: {field}: give a tuner or an advisor, not both")
        custom = [key for key in ("className", "classFileName", "codeDir", "codeDirectory") if key in section]
        name = section.pop(name_key, None)
        if name is None and custom:
            raise ConfigurationError(
                f"{self.owner}: {field}.{custom[0]}: a custom {role} is not loaded from code files; register "
                f"its class (autotune_nb.tuners.register_tuner) and name it in {field}.{name_key}")
        if name is None:
            raise ConfigurationError(f"{self.owner}: {field}.{name_key} is missing: name the {role}")
        known = available_tuners() if role == "tuner" else available_assessors()
        if role == "tuner":
            name = canonical_tuner_name(name)
        if not isinstance(name, str) or name.lower() not in {k.lower() for k in known}:
            raise ConfigurationError(f"{self.owner}: {field}.{name_key}: unknown {role} {shown(name)}; valid "
                                     f"names are {', '.join(known)} (case-insensitive)")
        args = section.pop("classArgs", None)
        if json_args and args is not None:
            args = self._json_text(args, f"{field}.classArgs")
        args = self._section(args, f"{field}.classArgs")
        if "optimize_mode" in args:
            mode = args.pop("optimize_mode")
            if mode not in DIRECTIONS:
                raise self._fail(f"{field}.classArgs.optimize_mode", "'maximize' or 'minimize'", mode)
            previous = self.values.get("direction")
            if previous is not None and previous[0] != mode:
                raise ConfigurationError(f"{self.owner}: {field}.classArgs.optimize_mode {mode!r} conflicts with "
                                         f"{previous[1]} {previous[0]!r}")
            self.values["direction"] = (mode, f"{field}.classArgs.optimize_mode")
        self.values[role] = name
        self.values[f"{role}_args"] = args
        if role == "tuner" and "gpuIndices" in section:
            section.pop("gpuIndices")
            self.warnings.append(f"{self.owner}: {field}.gpuIndices is not honoured: the tuner runs in this process")
        self._unhonoured(section, f"{field}.")

    def _unhonoured(self, rest: Mapping, prefix: str = "") -> None:
        for key, value in rest.items():
            if not prefix and key in SILENT_FIELDS:
                continue
            if key == "nniManagerIp":
                why = "there is no NNI manager: the study runs in this process"
            elif key == "tunerGpuIndices":
                why = "the tuner runs in this process"
            else:
                why = "not supported here"
            self.warnings.append(f"{self.owner}: {prefix}{key} (= {shown(value)}) is ignored: {why}")

    def _finish(self) -> None:
        """Settings that depend on one another: the direction, and GPUs per trial."""
        direction = self.values.pop("direction", None)
        if direction is not None:
            self.values["direction"] = direction[0]
        gpus_field = self.values.pop("gpus_field", None)
        trial_gpus_field = self.values.pop("trial_gpus_field", None)
        trial_gpus = self.values.get("trial_gpus")
        if trial_gpus is None:
            return
        if trial_gpus == 0 and gpus_field:
            self.warnings.append(f"{self.owner}: {gpus_field} is ignored: {trial_gpus_field} is 0, so trials run "
                                 "without a GPU")
            self.values.pop("gpus")
        elif trial_gpus > 1:
            self.warnings.append(f"{self.owner}: {trial_gpus_field}: {trial_gpus} GPUs per trial is not supported; "
                                 "each trial sees one GPU")
        if trial_gpus >= 1 and not gpus_field:
            self.warnings.append(f"{self.owner}: {trial_gpus_field}: {trial_gpus} needs GPU ids here: give "
                                 "gpuIndices (or --gpus in %%autotune); trials run without a GPU until then")
