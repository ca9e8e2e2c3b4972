"""NNI experiment configs (v1, v2, T9k's AutoTuneExperiment) read into a study's settings and run options."""

from __future__ import annotations

import json
import textwrap

import pytest

from autotune_nb.errors import ConfigurationError, NniConfigWarning, SearchSpaceError
from autotune_nb.nni_config import NniExperiment, parse_nni_duration, read_nni_config
from autotune_nb.study import Study
from autotune_nb.tuners import available_tuners, canonical_tuner_name, create_tuner, tuner_class

SPACE = {"lr": {"_type": "loguniform", "_value": [0.0001, 0.1]}, "depth": {"_type": "choice", "_value": [2, 4]}}


def write(folder, text: str, name: str = "config.yml"):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def read_quietly(path) -> NniExperiment:
    with pytest.warns() as record:
        experiment = read_nni_config(path)
    assert [str(w.message) for w in record if issubclass(w.category, NniConfigWarning)] == list(experiment.warnings)
    return experiment


# --- the three forms ---------------------------------------------------------------------------------
def test_v1_config_maps_every_field(tmp_path):
    (tmp_path / "search_space.json").write_text(json.dumps(SPACE))
    path = write(tmp_path, """\
        authorName: someone
        experimentName: mnist
        trialConcurrency: 2
        maxExecDuration: 1h
        maxTrialNum: 10
        trainingServicePlatform: local
        searchSpacePath: search_space.json
        useAnnotation: false
        tuner:
          builtinTunerName: GPTuner
          classArgs:
            optimize_mode: minimize
            utility: ei
        assessor:
          builtinAssessorName: Medianstop
          classArgs:
            optimize_mode: minimize
            start_step: 3
        trial:
          command: python3 mnist.py
          codeDir: .
          gpuNum: 1
        localConfig:
          gpuIndices: "0,1"
          maxTrialNumPerGpu: 2
    """)
    with warnings_recorded() as record:
        experiment = read_nni_config(path)
    assert record == [] and experiment.warnings == ()
    assert experiment.form == "v1" and experiment.name == "mnist"
    assert experiment.space == SPACE
    assert (experiment.tuner, experiment.tuner_args) == ("GP", {"utility": "ei"})
    assert (experiment.assessor, experiment.assessor_args) == ("Medianstop", {"start_step": 3})
    assert experiment.direction == "minimize"
    assert experiment.trial_command == "python3 mnist.py" and experiment.code_dir == "."
    assert experiment.trial_gpus == 1 and experiment.use_annotation is False
    assert experiment.run_options() == {"max_trials": 10, "max_duration": 3600.0, "concurrency": 2,
                                        "gpus": ["0", "1"], "trials_per_gpu": 2}


def test_v2_config_maps_every_field_and_finds_the_space_file_next_to_it(tmp_path, monkeypatch):
    folder = tmp_path / "experiment"
    folder.mkdir()
    (folder / "space.json").write_text(json.dumps(SPACE))
    write(folder, """\
        experimentName: mnist
        searchSpaceFile: space.json
        trialCommand: python mnist.py
        trialCodeDirectory: .
        trialGpuNumber: 1
        trialConcurrency: 4
        maxExperimentDuration: 30m
        maxTrialNumber: 20
        maxTrialDuration: 90s
        tuner:
          name: Evolution
          classArgs:
            optimize_mode: maximize
            population_size: 8
        assessor:
          name: Curvefitting
          classArgs:
            epoch_num: 20
        trainingService:
          platform: local
          gpuIndices: [0, 1]
          maxTrialNumberPerGpu: 2
          useActiveGpu: true
    """)
    monkeypatch.chdir(tmp_path)  # the space file is found relative to the config, not the working folder
    with warnings_recorded() as record:
        experiment = read_nni_config("experiment/config.yml")
    assert record == [] and experiment.form == "v2"
    assert experiment.space == SPACE and experiment.name == "mnist"
    assert (experiment.tuner, experiment.tuner_args) == ("Evolution", {"population_size": 8})
    assert (experiment.assessor, experiment.assessor_args) == ("Curvefitting", {"epoch_num": 20})
    assert experiment.direction == "maximize" and experiment.trial_command == "python mnist.py"
    assert experiment.run_options() == {"max_trials": 20, "max_duration": 1800.0, "trial_timeout": 90.0,
                                        "concurrency": 4, "gpus": ["0", "1"], "trials_per_gpu": 2}


def test_v2_inline_space_and_a_plain_number_of_seconds(tmp_path):
    path = write(tmp_path, """\
        searchSpace:
          x: {_type: uniform, _value: [0, 1]}
        maxExperimentDuration: 600
        tuner: {name: Random}
    """)
    experiment = read_nni_config(path)
    assert experiment.space == {"x": {"_type": "uniform", "_value": [0, 1]}}
    assert experiment.max_duration == 600.0 and experiment.tuner == "Random" and experiment.warnings == ()


def test_t9k_autotune_experiment_reads_json_text(tmp_path):
    path = write(tmp_path, f"""\
        apiVersion: tensorstack.dev/v1beta1
        kind: AutoTuneExperiment
        metadata:
          name: t9k-mnist
        spec:
          maxExecSeconds: 7200
          maxTrialNum: 12
          trialConcurrency: 3
          searchSpace: |-
            {json.dumps(SPACE)}
          tuner:
            builtinTunerName: TPE
            classArgs: |-
              {{"optimize_mode": "minimize", "constant_liar_type": "mean"}}
          trial:
            apiVersion: batch/v1
            kind: Job
    """)
    with warnings_recorded() as record:
        experiment = read_nni_config(path)
    assert record == [] and experiment.form == "t9k" and experiment.name == "t9k-mnist"
    assert experiment.space == SPACE and experiment.direction == "minimize"
    assert (experiment.tuner, experiment.tuner_args) == ("TPE", {"constant_liar_type": "mean"})
    assert experiment.run_options() == {"max_trials": 12, "max_duration": 7200.0, "concurrency": 3}


# --- fields not honoured: a warning naming each ---------------------------------------------------------
def test_remote_training_service_and_nni_manager_ip_are_warned_by_name(tmp_path):
    path = write(tmp_path, """\
        searchSpace: {x: {_type: uniform, _value: [0, 1]}}
        nniManagerIp: 10.0.0.1
        logLevel: debug
        trainingService:
          platform: remote
          machineList: [{host: 10.0.0.2}]
    """)
    experiment = read_quietly(path)
    assert len(experiment.warnings) == 3
    assert any("trainingService.platform: 'remote' is not supported; trials run on this machine" in w
               for w in experiment.warnings)
    assert any(w.startswith("config.yml: nniManagerIp (= '10.0.0.1') is ignored") for w in experiment.warnings)
    assert any("trainingService.machineList" in w for w in experiment.warnings)
    assert not any("logLevel" in w for w in experiment.warnings)  # bookkeeping: silent


def test_v1_platform_and_gpus_per_trial_are_warned(tmp_path):
    path = write(tmp_path, """\
        authorName: me
        searchSpacePath: space.json
        trainingServicePlatform: kubeflow
        kubeflowConfig: {operator: tf-operator}
        trial: {command: python t.py, codeDir: ., gpuNum: 2}
        localConfig: {gpuIndices: 0}
    """)
    (tmp_path / "space.json").write_text(json.dumps(SPACE))
    experiment = read_quietly(path)
    text = "\n".join(experiment.warnings)
    assert "trainingServicePlatform: 'kubeflow' is not supported" in text
    assert "kubeflowConfig" in text and "trial.gpuNum: 2 GPUs per trial is not supported" in text
    assert experiment.gpus == ["0"]


def test_gpus_per_trial_without_gpu_ids_is_warned(tmp_path):
    path = write(tmp_path, "searchSpace: {x: {_type: uniform, _value: [0, 1]}}\ntrialGpuNumber: 1\n")
    experiment = read_quietly(path)
    assert experiment.warnings == ("config.yml: trialGpuNumber: 1 needs GPU ids here: give gpuIndices (or --gpus "
                                   "in %%autotune); trials run without a GPU until then",)


# --- bad values: an error naming the field ------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("maxTrialNumber: ten", r"config.yml: maxTrialNumber must be an integer >= 1, got 'ten'"),
    ("trialConcurrency: 0", r"config.yml: trialConcurrency must be an integer >= 1, got 0"),
    ("maxTrialNumber: true", r"config.yml: maxTrialNumber must be an integer >= 1, got True"),
    ("maxExperimentDuration: soon", r"config.yml: maxExperimentDuration must be a positive duration.*got 'soon'"),
    ("maxTrialDuration: -5m", r"config.yml: maxTrialDuration must be a positive duration"),
    ("tuner: {name: Nope}", r"config.yml: tuner.name: unknown tuner 'Nope'; valid names are Anneal"),
    ("tuner: {name: TPE, classArgs: {optimize_mode: best}}",
     r"tuner.classArgs.optimize_mode must be 'maximize' or 'minimize', got 'best'"),
    ("tuner: {name: TPE, classArgs: {optimize_mode: minimize}}\n"
     "assessor: {name: Medianstop, classArgs: {optimize_mode: maximize}}",
     r"assessor.classArgs.optimize_mode 'maximize' conflicts with tuner.classArgs.optimize_mode 'minimize'"),
    ("tuner: {className: MyTuner, codeDirectory: .}", r"tuner.className: a custom tuner is not loaded"),
    ("advisor: {name: Nope}", r"advisor.name: unknown tuner 'Nope'; valid names are .*BOHB.*Hyperband"),
    ("trainingService: {platform: local, gpuIndices: gpu0}", r"trainingService.gpuIndices: 'gpu0' is not a GPU id"),
    ("trainingService: {platform: local, maxTrialNumberPerGpu: 1.5}",
     r"trainingService.maxTrialNumberPerGpu must be an integer >= 1, got 1.5"),
    ("useAnnotation: 'yes'", r"useAnnotation must be true or false, got 'yes'"),
    ("searchSpaceFile: missing.json", r"config.yml: searchSpaceFile: cannot read .*missing.json"),
    ("searchSpace: [1, 2]", r"config.yml: searchSpace must be an NNI search space"),
])
def test_a_bad_value_is_refused_naming_the_field(tmp_path, text, message):
    with pytest.raises(ConfigurationError, match=message):
        read_nni_config(write(tmp_path, text + "\n"))


@pytest.mark.parametrize("advisor", ["Hyperband", "BOHB"])
def test_nni_s_advisors_are_tuners_of_that_name(tmp_path, advisor):
    args = {"Hyperband": "{R: 27, eta: 3, exec_mode: serial, optimize_mode: maximize}",
            "BOHB": "{min_budget: 1, max_budget: 27, eta: 3, optimize_mode: maximize}"}[advisor]
    space = json.dumps({"x": {"_type": "uniform", "_value": [0, 1]}})
    experiment = read_nni_config(write(tmp_path, f"searchSpace: {space}\nadvisor: {{name: {advisor}, classArgs: {args}}}\n"))
    study = Study.from_nni_config(experiment, storage=None)
    assert (study.config.tuner, study.direction) == (advisor, "maximize")
    assert type(study.tuner).__name__ == f"{advisor}Tuner"


def test_a_bad_search_space_names_the_file_and_field(tmp_path):
    (tmp_path / "space.json").write_text(json.dumps({"x": {"_type": "uniform", "_value": [1, 0]}}))
    with pytest.raises(SearchSpaceError, match=r"config.yml: searchSpaceFile space.json: .*x"):
        read_nni_config(write(tmp_path, "searchSpaceFile: space.json\n"))


def test_t9k_bad_json_text_names_the_field(tmp_path):
    path = write(tmp_path, "kind: AutoTuneExperiment\napiVersion: v1\nspec:\n  searchSpace: '{oops'\n")
    with pytest.raises(ConfigurationError, match=r"config.yml: spec.searchSpace is not JSON"):
        read_nni_config(path)


def test_not_yaml_or_not_a_mapping(tmp_path):
    with pytest.raises(ConfigurationError, match=r"config.yml: not YAML"):
        read_nni_config(write(tmp_path, "a: [1\n"))
    with pytest.raises(ConfigurationError, match=r"config.yml: an NNI config is a mapping"):
        read_nni_config(write(tmp_path, "- 1\n"))
    with pytest.raises(ConfigurationError, match=r"cannot read the NNI config"):
        read_nni_config(tmp_path / "absent.yml")


@pytest.mark.parametrize("value, seconds", [("10s", 10), ("30m", 1800), ("1h", 3600), ("2d", 172800), (45, 45),
                                            ("1.5h", 5400), ("999d", 999 * 86400)])
def test_nni_durations(value, seconds):
    assert parse_nni_duration("config.yml", "maxExecDuration", value) == seconds


# --- a study from a config; NNI's tuner names -----------------------------------------------------------
def test_study_from_nni_config(tmp_path):
    path = write(tmp_path, """\
        experimentName: quad
        searchSpace: {x: {_type: uniform, _value: [-2, 2]}}
        maxTrialNumber: 5
        tuner: {name: Anneal, classArgs: {optimize_mode: minimize}}
        assessor: {name: Medianstop, classArgs: {start_step: 2}}
    """)
    experiment = read_nni_config(path)
    study = Study.from_nni_config(experiment, seed=0, storage=tmp_path / "store.db")
    assert study.config.tuner == "Anneal" and study.direction == "minimize" and study.config.seed == 0
    assert study.config.assessor == "Medianstop" and study.config.assessor_args == {"start_step": 2}
    assert study.name.startswith("quad-") and study.space.to_nni() == {"x": {"_type": "uniform", "_value": [-2, 2]}}
    study.run(lambda p: p["x"] ** 2, **experiment.run_options(), executor="inline")
    assert len(study.trials) == 5
    # A path works too; settings given override the file's.
    other = Study.from_nni_config(path, name="exact", tuner="Random", storage=None)
    assert other.name == "exact" and other.config.tuner == "Random"


def test_study_from_a_config_without_a_space_is_refused(tmp_path):
    path = write(tmp_path, "useAnnotation: true\ntuner: {name: TPE}\n")
    with pytest.raises(ConfigurationError, match=r"config.yml has no search space .*useAnnotation"):
        Study.from_nni_config(path, storage=None)


@pytest.mark.parametrize("alias, name", [("GPTuner", "GP"), ("BatchTuner", "Batch"), ("gridsearch", "gridsearch"),
                                         ("TPE", "TPE"), ("Random", "Random"), ("Anneal", "Anneal"),
                                         ("Evolution", "Evolution"), ("gptuner", "GP")])
def test_nni_tuner_names(alias, name):
    assert canonical_tuner_name(alias) == name
    assert tuner_class(alias) is tuner_class(name)


def test_aliases_are_not_listed_twice():
    assert "GPTuner" not in available_tuners() and "GP" in available_tuners()
    assert type(create_tuner("GPTuner", SPACE, seed=0)).__name__ == "GPTuner"


class warnings_recorded:
    """Every warning raised inside, as a list (filled on exit)."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings(record=True)
        self._record = self._catch.__enter__()
        warnings.simplefilter("always")
        self.items: list = []
        return self.items

    def __exit__(self, *exc):
        self.items.extend(str(w.message) for w in self._record)
        return self._catch.__exit__(*exc)
