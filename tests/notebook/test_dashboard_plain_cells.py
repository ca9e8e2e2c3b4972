"""`at.dashboard(study)` from plain Python cells (no magic), on a real kernel: shown before the study
runs, it follows that run, whether the run blocks a later cell or goes on in a thread."""

from __future__ import annotations

import re


def dashboards(nb) -> list[tuple[str, str]]:
    """(state, progress text) of each dashboard, from the widget state nbclient saved, in the order the
    widgets were made."""
    models = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    values = [str(model["state"].get("value", "")) for model in models.values()]
    states = [re.search(r'autotune-state">([^<]*)<', v).group(1) for v in values if 'class="autotune-state"' in v]
    progress = [re.search(r'autotune-progress-text">([^<]*)<', v).group(1) for v in values
                if 'class="autotune-progress-text"' in v]
    return list(zip(states, progress))


def test_a_dashboard_shown_before_the_run_follows_it_blocking_or_in_a_thread(notebook):
    notebook.cell("import threading, time\nimport autotune_nb as at\n"
                  "space = {'x': at.uniform(0, 1)}\nslow = lambda p: time.sleep(0.05) or p['x']")
    # Blocking: the dashboard is displayed in one cell, the run blocks the next.
    notebook.cell("blocking = at.Study(space, tuner='Random', seed=0, storage=None, name='blocking')\n"
                  "at.dashboard(blocking, total=4)")
    notebook.cell("blocking.run(slow, max_trials=4, executor='inline');")
    # In a thread, with the dashboard displayed at once (the run may not have begun yet).
    notebook.cell("threaded = at.Study(space, tuner='Random', seed=1, storage=None, name='threaded')\n"
                  "runner = threading.Thread(target=threaded.run, args=(slow,), kwargs={'max_trials': 6, 'executor': 'inline'})\n"
                  "runner.start()\n"
                  "at.dashboard(threaded, total=6)")
    # Display and run in one cell.
    notebook.cell("same = at.Study(space, tuner='Random', seed=2, storage=None, name='same')\n"
                  "display(at.dashboard(same, total=3))\n"
                  "same.run(slow, max_trials=3, executor='inline');")
    notebook.cell("runner.join()\ntime.sleep(1.5)  # the dashboards' last refresh comes from their timers")
    notebook.execute(store_widget_state=True)
    shown = dashboards(notebook.nb)
    assert len(shown) == 3, shown
    assert [state for state, _ in shown] == ["finished"] * 3, shown
    assert [progress.split(" trials")[0] for _, progress in shown] == ["4 / 4", "6 / 6", "3 / 3"], shown
