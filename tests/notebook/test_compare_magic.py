"""``%autotune compare A B C`` and ``at.compare`` on a real ipykernel, executed through nbclient."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.timeout(600)


def test_compare_shows_the_best_so_far_curves_and_a_table_of_bests(notebook):
    notebook.cell("%load_ext autotune_nb")
    for name, tuner in (("cmp-random", "Random"), ("cmp-tpe", "TPE"), ("cmp-anneal", "Anneal")):
        notebook.cell(f"%%autotune --tuner {tuner} --trials 6 --seed 0 --minimize --name {name}\n"
                      "x = at.uniform(-3, 3)\n"
                      "(x - 1) ** 2\n")
    shown = notebook.cell("%autotune compare cmp-random cmp-tpe cmp-anneal")
    from_python = notebook.cell("c = at.compare(['cmp-tpe', _study])\nprint([r.name for r in c.rows][0] in ('cmp-tpe', 'cmp-anneal'))")
    too_few = notebook.cell("%autotune compare cmp-tpe")
    missing = notebook.cell("%autotune compare cmp-tpe nowhere")
    notebook.execute(allow_errors=True)

    (output,) = [out for out in notebook.outputs(shown) if out.output_type == "display_data"]
    page = output.data["text/html"]
    assert page.count('class="autotune-compare-line"') == 3
    rows = re.findall(r"</span> ([\w-]+)</td><td>(\w+)</td><td>6</td><td>6</td><td>([^<]+)</td>", page)
    assert sorted(name for name, _, _ in rows) == ["cmp-anneal", "cmp-random", "cmp-tpe"]
    bests = [float(best) for _, _, best in rows]
    assert bests == sorted(bests)  # minimize: the lowest best first
    assert "(minimize)" in output.data["text/plain"]
    assert notebook.text(from_python).strip().endswith("True")
    assert "UsageError: %autotune compare takes two or more study names, got 1" in notebook.text(too_few)
    assert "nowhere" in notebook.text(missing) and "Traceback" not in notebook.text(missing)
