"""A person drives the dashboard in JupyterLab: Stop under a blocking cell, a background study's
dashboard live while another cell keeps the kernel busy."""

from __future__ import annotations

import json

import nbformat
import pytest

from test_dashboard_in_lab import run_all_cells  # the open-and-run sequence of the browser tests

pytestmark = pytest.mark.timeout(600)

LOAD = "%load_ext autotune_nb"
# The kernel records when each cell ends (IPython's post_run_cell), for asserts on recorded times.
RECORD_CELL_ENDS = (
    "import json, time\n"
    "cell_ends = []\n"
    "get_ipython().events.register('post_run_cell', lambda result: cell_ends.append(\n"
    "    (result.info.raw_cell.splitlines()[0], time.time())))"
)
# What the page shows while the busy cell (the notebook's third code cell) runs: sampled by the page
# itself every 50 ms into window.samples.
SAMPLE_WHILE_BUSY = """() => {
  window.samples = [];
  window.sampler = setInterval(() => {
    const prompt = document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputPrompt')[2];
    const output = document.querySelectorAll('.jp-Notebook .jp-Cell')[2].querySelector('.jp-OutputArea');
    window.samples.push({
      busy: (prompt?.innerText || '').includes('*') && (output?.innerText || '').includes('busy cell started'),
      progress: document.querySelector('.autotune-progress-text')?.innerText || null,
    });
  }, 50);
}"""


def write_notebook(lab, name: str, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, lab.root / name)


def wait_until_idle(page) -> None:
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputPrompt').length > 0 && "
        "![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.innerText.includes('*'))",
        timeout=300_000,
    )


def last_output_json(page) -> dict:
    outputs = page.query_selector_all(".jp-Notebook .jp-Cell")[-1].query_selector(".jp-OutputArea").inner_text()
    return json.loads(outputs.strip().splitlines()[-1])


def test_stop_in_a_blocking_cell_ends_it_with_the_study_keeping_the_finished_trials(lab, page, screenshot):
    write_notebook(lab, "blocking_stop.ipynb", [
        LOAD,
        RECORD_CELL_ENDS,
        "%%autotune --tuner Random --trials 200 --concurrency 2 --name blocking_stop --out s\n"
        "import time\n"
        "x = at.uniform(0, 1)\n"
        "time.sleep(0.5)\n"
        "x\n",
        "trials = [{'state': t.state.value, 'end': t.finished_at} for t in s.trials]\n"
        "cell_end = next(end for first, end in cell_ends if first.startswith('%%autotune'))\n"
        "print(json.dumps({'trials': trials, 'cell_end': cell_end, 'state': s.state.value,\n"
        "                  'reason': s.stop_reason}))",
    ])
    run_all_cells(lab, page, "blocking_stop.ipynb", wait=False)
    stop = page.wait_for_selector(".autotune-dashboard .autotune-stop:not([disabled])", timeout=120_000)
    page.wait_for_function(  # a few trials have finished: there is something to keep
        "() => /succeeded [3-9]/.test(document.querySelector('.autotune-counts')?.innerText || '')",
        timeout=120_000,
    )
    stop.click()
    wait_until_idle(page)

    ran = last_output_json(page)
    states = [t["state"] for t in ran["trials"]]
    assert ran["state"] == "stopped" and ran["reason"] == "stopped by request"
    assert len(states) < 200 and states.count("SUCCEEDED") >= 3
    assert set(states) == {"SUCCEEDED", "CANCELED"}, states  # the running trials canceled, none lost
    last_trial_end = max(t["end"] for t in ran["trials"])
    assert 0 <= ran["cell_end"] - last_trial_end < 2.0, ran  # the cell ended with the study
    assert "stopped" in page.inner_text(".autotune-dashboard .autotune-state")
    screenshot(page.query_selector(".autotune-dashboard"), "stopped_in_a_blocking_cell.png")


def test_a_background_dashboard_appears_and_moves_while_another_cell_keeps_the_kernel_busy(lab, page, screenshot):
    write_notebook(lab, "busy_kernel.ipynb", [
        LOAD,
        "%%autotune --tuner Random --trials 40 --concurrency 2 --background --name busy_kernel --out s\n"
        "import time\n"
        "x = at.uniform(0, 1)\n"
        "time.sleep(0.3)\n"
        "x\n",
        "import time\n"
        "print('busy cell started', flush=True)\n"
        "for _ in range(140):\n"
        "    time.sleep(0.1)",
        "print(len(s.trials))",
    ])
    run_all_cells(lab, page, "busy_kernel.ipynb", wait=False)
    page.evaluate(SAMPLE_WHILE_BUSY)
    page.wait_for_function("() => window.samples.some(s => s.busy)", timeout=120_000)
    wait_until_idle(page)
    samples = page.evaluate("() => { clearInterval(window.sampler); return window.samples; }")

    seen_while_busy = [s["progress"] for s in samples if s["busy"] and s["progress"]]
    assert seen_while_busy, "the dashboard did not appear while the busy cell ran"
    assert len(set(seen_while_busy)) >= 3, sorted(set(seen_while_busy))  # and it moved
    screenshot(page.query_selector(".autotune-dashboard"), "dashboard_while_the_kernel_is_busy.png")


def test_the_dashboard_by_keyboard_and_screen_reader(lab, page, screenshot):
    """Tab reaches the buttons, Space and Enter press them; every chart has a title, a description
    and axis labels as text (what a screen reader reads)."""
    write_notebook(lab, "keyboard.ipynb", [
        LOAD,
        "%%autotune --tuner Random --trials 100 --concurrency 1 --background --name keyboard --out s\n"
        "import time\n"
        "x = at.uniform(0, 1)\n"
        "at.report(x / 2)\n"
        "time.sleep(0.3)\n"
        "x\n",
    ])
    run_all_cells(lab, page, "keyboard.ipynb")
    page.wait_for_function(  # a trial has finished: the charts have marks
        "() => /succeeded [1-9]/.test(document.querySelector('.autotune-counts')?.innerText || '')",
        timeout=120_000,
    )
    page.click(".autotune-dashboard .autotune-header-box")  # where sequential focus navigation starts
    reached = []
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.className"))
        if "autotune-export" in reached[-1]:
            break
    assert any("autotune-stop" in name for name in reached), reached
    assert "autotune-export" in reached[-1], reached
    page.keyboard.press("Space")  # Export, by keyboard
    page.wait_for_function("() => /Exported to/.test(document.querySelector('.autotune-note')?.innerText || '')")
    page.keyboard.press("Shift+Tab")  # back to Stop
    assert "autotune-stop" in page.evaluate("() => document.activeElement.className")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => (document.querySelector('.autotune-dashboard .autotune-state')?.innerText || '') === 'stopped'",
        timeout=60_000,
    )

    for chart in (".autotune-results-chart", ".autotune-curves-chart"):
        figure = page.query_selector(f".autotune-dashboard {chart}")
        assert figure.query_selector(".mainheading").text_content().strip(), chart
    axis_labels = {label.text_content() for label in page.query_selector_all(".autotune-dashboard .axislabel")}
    assert {"trial", "result", "step", "intermediate result"} <= axis_labels, axis_labels
    screenshot(page.query_selector(".autotune-dashboard"), "dashboard_by_keyboard.png")
