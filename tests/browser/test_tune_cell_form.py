"""The "Tune this cell" button, as a person uses it in JupyterLab: the form writes the cell's
`%%autotune` line only once the kernel (the magic's own checks) accepts it, and the cell then runs
the study it describes."""

from __future__ import annotations


import nbformat
import pytest

from test_dashboard_in_lab import open_notebook  # the open sequence of the browser tests

pytestmark = pytest.mark.timeout(600)

COMMAND = "autotune-nb:tune-cell"
BODY = "x = at.uniform(0, 1)\nk = at.choice([1, 2, 3])\n(x - 0.3) ** 2 + k"
WRITTEN = "%%autotune --tuner Random --trials 6 --concurrency 2 --minimize --name form-study"
TRIALS = 6


def cell_source(page, index: int) -> str:
    return page.evaluate(f"window.jupyterapp.shell.currentWidget.content.widgets[{index}].model.sharedModel.getSource()")


def select_cell(page, index: int) -> None:
    page.evaluate(f"window.jupyterapp.shell.currentWidget.content.activeCellIndex = {index}")


def wait_until_the_form_is_ready(page) -> None:
    """The form has the kernel's answer (the registries and the line read back)."""
    page.wait_for_function(
        "() => document.querySelector('.autotune-form-error')?.innerText || "
        "document.querySelector('.autotune-form-submit:not([disabled])')",
        timeout=120_000,
    )
    assert page.inner_text(".autotune-form-error") == "", page.inner_text(".autotune-tune-form")


def submit_and_wait_for_the_kernel(page) -> None:
    page.click(".autotune-tune-form .autotune-form-submit")
    page.wait_for_function(
        "() => !document.querySelector('.autotune-tune-form') || "
        "(!document.querySelector('.autotune-form-submit').disabled)",
        timeout=120_000,
    )


def test_the_form_writes_a_checked_line_and_the_cell_runs_the_study(lab, page, screenshot):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("%load_ext autotune_nb\nimport autotune_nb as at"),
                nbformat.v4.new_code_cell(BODY)]
    nbformat.write(nb, lab.root / "tune_form.ipynb")
    open_notebook(lab, page, "tune_form.ipynb")
    select_cell(page, 0)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")  # returns once the cell ran

    # The button is in the toolbar of the active cell.
    select_cell(page, 1)
    button = page.wait_for_selector(f".jp-Notebook .jp-Cell.jp-mod-active .jp-cell-toolbar [data-command='{COMMAND}']",
                                    timeout=60_000)
    button.click()
    wait_until_the_form_is_ready(page)
    tuners = page.eval_on_selector_all("#autotune-form-tuner option", "options => options.map(o => o.value)")
    assert {"TPE", "Random", "Evolution", "GridSearch"} <= set(tuners)
    page.select_option("#autotune-form-tuner", "Random")
    assert "population_size" not in page.inner_text(".autotune-form-hint-tuner-args")
    page.select_option("#autotune-form-tuner", "Evolution")
    assert "population_size=32" in page.inner_text(".autotune-form-hint-tuner-args")  # from the registry
    page.select_option("#autotune-form-tuner", "Random")

    # An invalid value: the magic's own message, and the cell is left as it was.
    page.fill("#autotune-form-trials", "0")
    page.fill("#autotune-form-concurrency", "2")
    page.select_option("#autotune-form-direction", "minimize")
    page.fill("#autotune-form-name", "form-study")
    submit_and_wait_for_the_kernel(page)
    assert page.inner_text(".autotune-form-error") == "--trials 0 must be at least 1"
    assert cell_source(page, 1) == BODY
    page.fill("#autotune-form-tuner-args", '{"no_such_arg":1}')
    submit_and_wait_for_the_kernel(page)
    assert page.inner_text(".autotune-form-error") == "--trials 0 must be at least 1"  # the first refusal
    page.fill("#autotune-form-trials", str(TRIALS))
    submit_and_wait_for_the_kernel(page)
    error = page.inner_text(".autotune-form-error")
    assert error.startswith("tuner Random: unknown classArg 'no_such_arg'"), error
    screenshot(page.query_selector(".autotune-tune-form"), "tune_form_refused.png")
    assert cell_source(page, 1) == BODY

    # A valid form: the line is written above the body.
    page.fill("#autotune-form-tuner-args", "")
    submit_and_wait_for_the_kernel(page)
    page.wait_for_selector(".autotune-tune-form", state="detached", timeout=30_000)
    assert cell_source(page, 1) == f"{WRITTEN}\n{BODY}"

    # Opened again (from the cell's context menu), the form reads the line back.
    page.click(".jp-Notebook .jp-Cell.jp-mod-active .jp-InputArea-editor", button="right")
    page.click(f".lm-Menu-item[data-command='{COMMAND}']", timeout=30_000)
    wait_until_the_form_is_ready(page)
    assert page.input_value("#autotune-form-tuner") == "Random"
    assert page.input_value("#autotune-form-trials") == str(TRIALS)
    assert page.input_value("#autotune-form-direction") == "minimize"
    assert page.input_value("#autotune-form-name") == "form-study"
    page.keyboard.press("Escape")
    page.wait_for_selector(".autotune-tune-form", state="detached", timeout=30_000)
    assert cell_source(page, 1) == f"{WRITTEN}\n{BODY}"

    # Running the cell runs that study to its end.
    select_cell(page, 1)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
    page.wait_for_selector(".jp-Notebook .jp-Cell:nth-child(2) .jp-OutputArea-output", timeout=120_000)
    dashboard = page.query_selector(".jp-Notebook .jp-Cell:nth-child(2) .autotune-dashboard")
    assert dashboard is not None, page.inner_text(".jp-Notebook .jp-Cell:nth-child(2) .jp-OutputArea")
    page.wait_for_function(
        f"() => (document.querySelector('.autotune-progress-text')?.innerText || '').startsWith('{TRIALS} / {TRIALS} trials')",
        timeout=300_000,
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-OutputArea-output')].some(o => "
        "o.innerText.includes(\"study 'form-study': 6 trials (6 succeeded)\"))",
        timeout=120_000,
    )
    header = page.inner_text(".autotune-dashboard")
    assert "Random" in header and "minimize" in header
    screenshot(dashboard, "tune_form_study.png")
