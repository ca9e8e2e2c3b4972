"""The MIME bundle a finished study leaves in a saved notebook: the study document, and an HTML
fallback (tables and an inline SVG chart, no JavaScript) with every user string escaped."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

import autotune_nb as at
from autotune_nb import TrialState
from autotune_nb.views import charts
from autotune_nb.views.static import MIME_TYPE, study_html, study_mimebundle

SCRIPT = "<script>alert(1)</script>"


def objective(params):
    at.report(params["x"], step=1)
    if params["x"] > 3:
        raise ValueError(f"x too large: {params['x']:.3f}")
    return (params["x"] - 1) ** 2


def run_study(n: int = 40, **kwargs) -> at.Study:
    study = at.Study({"x": at.uniform(-5, 5), "act": at.choice(["relu", "tanh"])}, tuner="Random",
                     direction="minimize", seed=4, **kwargs)
    return study.run(objective, max_trials=n, max_failures=n, executor="inline")


def test_bundle_carries_the_study_document_the_html_fallback_and_a_text_line():
    study = run_study()
    bundle = study_mimebundle(study.config, study.trials, "finished")
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    document = json.loads(json.dumps(bundle[MIME_TYPE], allow_nan=False))  # what the notebook file keeps
    assert (document["format"], document["version"]) == ("autotune-study", 1)
    assert document["study"]["name"] == study.name and document["study"]["state"] == "finished"
    assert [t["number"] for t in document["trials"]] == [t.number for t in study.trials]
    assert [t["state"] for t in document["trials"]] == [t.state.value for t in study.trials]
    assert f"best {study.best.value:.6g} (trial {study.best.number})" in bundle["text/plain"]


def test_html_is_well_formed_static_markup_with_the_top_trials():
    study = run_study()
    page = study_html(study.config, study.trials, "finished")
    root = ElementTree.fromstring(page)  # balanced tags, escaped text: a strict XML parser reads it
    assert root.get("class") == "autotune-static"
    top_rows = root.findall(".//table[@class='autotune-table']/tbody/tr")
    assert len(top_rows) == 10
    assert top_rows[0].find("td").text == str(study.best.number)
    failed = sum(t.state == TrialState.FAILED for t in study.trials)
    assert len(root.findall(".//table[@class='autotune-failures']/tbody/tr")) == min(5, failed)
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]+\son\w+=", page)  # no event-handler attributes either


def test_svg_has_one_dot_per_plotted_trial_and_the_best_so_far_steps():
    study = run_study()
    page = study_html(study.config, study.trials, "finished")
    svg = ElementTree.fromstring(page).find(".//{http://www.w3.org/2000/svg}svg")
    paths = {p.get("class"): p.get("d") for p in svg.iter("{http://www.w3.org/2000/svg}path")}
    succeeded = sum(t.state == TrialState.SUCCEEDED for t in study.trials)
    failed = sum(t.state == TrialState.FAILED for t in study.trials)  # they reported once: plotted
    assert paths["autotune-dots-succeeded"].count("M") == succeeded
    assert paths["autotune-dots-failed"].count("M") == failed
    improvements = charts.results_chart(charts.columns_of(study.trials), "minimize").best_numbers
    best_line = svg.find("{http://www.w3.org/2000/svg}polyline").get("points").split()
    assert len(best_line) == 2 * len(improvements) - 1  # two corners per step


def test_a_study_without_trials_still_renders():
    study = at.Study({"x": at.uniform(0, 1)}, tuner="Random", seed=0)
    bundle = study_mimebundle(study.config, [], "stopped")
    assert "No trial succeeded" in bundle["text/html"] and "Best so far: none yet" in bundle["text/html"]
    ElementTree.fromstring(bundle["text/html"])


def test_user_strings_are_escaped_in_the_html():
    space = {SCRIPT: at.uniform(-5, 5), "act": at.choice([SCRIPT, "relu"])}

    def hostile(params):
        if params[SCRIPT] > 2:
            raise RuntimeError(SCRIPT)
        return params[SCRIPT]

    study = at.Study(space, tuner="Random", seed=1, name=SCRIPT, tuner_args={})
    study.run(hostile, max_trials=30, max_failures=30, executor="inline")
    assert any(t.state == TrialState.FAILED for t in study.trials)
    assert any(t.params["act"] == SCRIPT for t in study.trials)
    page = study_mimebundle(study.config, study.trials, "finished")["text/html"]
    assert "<script" not in page.lower()
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # name, parameter, value, error
    ElementTree.fromstring(page)
