"""NNI annotations in a ``%%autotune`` cell: the search space they define and the trial they make."""

from __future__ import annotations

import textwrap

import pytest

from autotune_nb.errors import SearchSpaceError
from autotune_nb.execution.context import run_with_reports
from autotune_nb.nni_annotations import annotate_file, search_space
from autotune_nb.notebook.cell import compile_cell
from autotune_nb.vocabulary import OutcomeKind


def program(source: str, user_ns: dict | None = None, **kwargs):
    return compile_cell(textwrap.dedent(source), user_ns or {}, **kwargs)


def space_of(source: str) -> dict:
    return {name: d.to_nni() for name, d in program(source).declared.items()}


def run(source: str, params: dict, user_ns: dict | None = None):
    """One trial of the cell: (outcome, reports)."""
    reports: list[tuple[int, float]] = []
    fn = program(source, user_ns).build(dict(user_ns or {}))
    outcome = run_with_reports(fn, 0, params, lambda n, step, value: reports.append((step, value)) or False,
                               in_worker=False)
    return outcome, reports


def result(source: str, params: dict, user_ns: dict | None = None):
    outcome, _ = run(source, params, user_ns)
    assert outcome.kind is OutcomeKind.RESULT, outcome
    return outcome.result


def test_a_variable_annotation_replaces_the_assigned_value():
    cell = '''
    """@nni.variable(nni.choice(0.1, 0.01, 0.001), name=learning_rate)"""
    learning_rate = 0.1
    learning_rate * 1000
    '''
    assert space_of(cell) == {"learning_rate": {"_type": "choice", "_value": [0.1, 0.01, 0.001]}}
    assert result(cell, {"learning_rate": 0.01}) == 10.0


def test_attribute_targets_in_methods_nested_functions_and_class_bodies():
    cell = '''
    class Net:
        """@nni.variable(nni.choice(16, 32), name=width)"""
        width = 8

        def __init__(self):
            """@nni.variable(nni.choice(2, 3, 5, 7), name=self.conv_size)"""
            self.conv_size = 5
            """@nni.variable(nni.uniform(0.1, 0.5), name=self.dropout)"""
            self.dropout: float = 0.2

    def build():
        def inner():
            """@nni.variable(nni.randint(1, 4), name=depth)"""
            depth = 1
            return depth
        return inner()

    net = Net()
    (net.width, net.conv_size, net.dropout, build())
    '''
    assert space_of(cell) == {
        "width": {"_type": "choice", "_value": [16, 32]},
        "self.conv_size": {"_type": "choice", "_value": [2, 3, 5, 7]},
        "self.dropout": {"_type": "uniform", "_value": [0.1, 0.5]},
        "depth": {"_type": "randint", "_value": [1, 4]},
    }
    params = {"width": 32, "self.conv_size": 7, "self.dropout": 0.3, "depth": 3}
    assert result(cell, params) == (32, 7, 0.3, 3)


def test_an_annotation_in_a_loop_is_one_parameter_with_one_value_per_trial():
    cell = '''
    seen = []
    for epoch in range(4):
        """@nni.variable(nni.quniform(0, 10, 2), name=batch)"""
        batch = epoch
        seen.append(batch)
    seen
    '''
    assert space_of(cell) == {"batch": {"_type": "quniform", "_value": [0, 10, 2]}}
    assert result(cell, {"batch": 6}) == [6, 6, 6, 6]


def test_the_same_name_with_the_same_distribution_is_one_parameter():
    cell = '''
    class A:
        def __init__(self):
            """@nni.variable(nni.choice(1, 2), name=self.k)"""
            self.k = 1
    class B:
        def __init__(self):
            """@nni.variable(nni.choice(1, 2), name=self.k)"""
            self.k = 2
    A().k + B().k
    '''
    assert space_of(cell) == {"self.k": {"_type": "choice", "_value": [1, 2]}}
    assert result(cell, {"self.k": 2}) == 4


def test_function_choice_evaluates_only_the_chosen_expression():
    calls = []
    user_ns = {"relu": lambda x: calls.append("relu") or max(x, 0),
               "tanh": lambda x: calls.append("tanh") or -1.0}
    cell = '''
    x = -3
    """@nni.function_choice(relu(x), tanh(x), name=activation)"""
    y = relu(x) + 10
    y
    '''
    assert space_of(cell) == {"activation": {"_type": "choice", "_value": ["relu(x)", "tanh(x)"]}}
    assert result(cell, {"activation": "tanh(x)"}, user_ns) == 9.0
    assert calls == ["tanh"]
    assert result(cell, {"activation": "relu(x)"}, user_ns) == 10
    assert calls == ["tanh", "relu"]


def test_function_choice_in_a_method_with_attribute_arguments():
    cell = '''
    def max_pool(x, size):
        return ("max", x, size)
    def avg_pool(x, size):
        return ("avg", x, size)
    class Net:
        pool_size = 2
        def forward(self, h):
            """@nni.function_choice(max_pool(h, self.pool_size), avg_pool(h, self.pool_size), name=max_pool)"""
            out = max_pool(h, self.pool_size)
            return out
    Net().forward(5)
    '''
    assert space_of(cell) == {"max_pool": {"_type": "choice", "_value": [
        "max_pool(h, self.pool_size)", "avg_pool(h, self.pool_size)"]}}
    assert result(cell, {"max_pool": "avg_pool(h, self.pool_size)"}) == ("avg", 5, 2)


def test_choice_options_that_are_expressions_are_source_texts_evaluated_in_the_trial():
    cell = '''
    import math
    """@nni.variable(nni.choice(math.pi, "e", 3, [1, 2]), name=k)"""
    k = 0
    k
    '''
    assert space_of(cell) == {"k": {"_type": "choice", "_value": ["math.pi", "e", 3, "[1, 2]"]}}
    assert result(cell, {"k": "math.pi"}) == pytest.approx(3.14159265)
    assert result(cell, {"k": "e"}) == "e"
    assert result(cell, {"k": 3}) == 3
    assert result(cell, {"k": "[1, 2]"}) == [1, 2]


@pytest.mark.parametrize("call, spec", [
    ("nni.choice(2, 3, 5)", {"_type": "choice", "_value": [2, 3, 5]}),
    ("nni.randint(1, 10)", {"_type": "randint", "_value": [1, 10]}),
    ("nni.uniform(-1, 1)", {"_type": "uniform", "_value": [-1, 1]}),
    ("nni.quniform(0, 10, 2)", {"_type": "quniform", "_value": [0, 10, 2]}),
    ("nni.loguniform(1e-4, 1e-1)", {"_type": "loguniform", "_value": [1e-4, 1e-1]}),
    ("nni.qloguniform(1, 100, 1)", {"_type": "qloguniform", "_value": [1, 100, 1]}),
    ("nni.normal(0, 1)", {"_type": "normal", "_value": [0, 1]}),
    ("nni.qnormal(10, 2, 1)", {"_type": "qnormal", "_value": [10, 2, 1]}),
    ("nni.lognormal(0, 1)", {"_type": "lognormal", "_value": [0, 1]}),
    ("nni.qlognormal(2, 1, 1)", {"_type": "qlognormal", "_value": [2, 1, 1]}),
])
def test_the_ten_sampling_functions_are_nni_json(call, spec):
    cell = f'"""@nni.variable({call}, name=v)"""\nv = 1\nv\n'
    assert search_space(cell) == {"v": spec}
    assert space_of(cell) == {"v": spec}
    assert result(cell, {"v": 4}) == 4


def test_reports_final_result_and_get_next_parameter():
    cell = '''
    """@nni.get_next_parameter()"""
    """@nni.variable(nni.uniform(0, 1), name=lr)"""
    lr = 0.5
    acc = 0.0
    for epoch in range(3):
        acc += lr
        """@nni.report_intermediate_result(acc)"""
    """@nni.report_final_result({"default": acc, "epochs": 3})"""
    "the trailing expression is not the result once a final result is reported"
    '''
    outcome, reports = run(cell, {"lr": 0.25})
    assert outcome.kind is OutcomeKind.RESULT
    assert outcome.result == {"default": 0.75, "epochs": 3}
    assert reports == [(1, 0.25), (2, 0.5), (3, 0.75)]


def test_a_final_result_as_the_last_statement_and_under_if_main():
    cell = '''
    """@nni.variable(nni.choice(1, 2), name=n)"""
    n = 1
    if __name__ == "__main__":
        score = n * 10
        """@nni.report_final_result(score)"""
    '''
    assert result(cell, {"n": 2}) == 20


def test_annotations_mix_with_declarations_in_cell_order():
    cell = '''
    """@nni.variable(nni.choice(1, 2), name=a)"""
    a = 0
    b = at.uniform(0, 1)
    a + b
    '''
    prog = program(cell)
    assert list(prog.declared) == ["a", "b"] and prog.annotated == ("a",)
    assert result(cell, {"a": 2, "b": 0.5}) == 2.5


def test_the_names_annotations_read_are_shipped_from_the_notebook():
    cell = '''
    """@nni.function_choice(fast(data), slow(data), name=algo)"""
    out = fast(data)
    out
    '''
    user_ns = {"fast": len, "slow": sum, "data": [1, 2, 3], "unused": 1}
    assert set(program(cell, user_ns).reads) == {"fast", "slow", "data"}


def test_a_plain_run_is_ordinary_python():
    cell = textwrap.dedent('''
    class Net:
        def __init__(self):
            """@nni.variable(nni.choice(2, 3, 5), name=self.conv_size)"""
            self.conv_size = 3
    total = 0
    for step in range(2):
        """@nni.function_choice(abs(step), -step, name=f)"""
        total += abs(step)
        """@nni.report_intermediate_result(total)"""
    """@nni.report_final_result(total)"""
    result = (Net().conv_size, total)
    ''')
    namespace: dict = {}
    exec(compile(cell, "<cell>", "exec"), namespace)
    assert namespace["result"] == (3, 1)


@pytest.mark.parametrize("cell, line, message", [
    ('x = 1\n"""@nni.variable(nni.choice(1, 2))"""\nx = 2\n', 3, "@nni.variable needs name=..., got nni.variable(nni.choice(1, 2))"),
    ('"""@nni.variable(nni.choice(1, 2), name=x)"""\ny = 2\n', 2, "annotates an assignment to y"),
    ('"""@nni.variable(nni.choice(1, 2), name=x)"""\nprint(1)\n', 2, "must be followed by an assignment `x = ...`"),
    ('"""@nni.varible(nni.choice(1, 2), name=x)"""\nx = 2\n', 2, "@nni.varible is not an NNI annotation"),
    ('"""@nni.variable(nni.choice(1, 2), name=x"""\nx = 2\n', 2, "is not a Python call"),
    ('"""@nni.variable(nni.uniform(0, high), name=x)"""\nx = 2\n', 2, "arguments are number literals"),
    ('"""@nni.variable(nni.uniform(0), name=x)"""\nx = 2\n', 2, "uniform needs 2 values"),
    ('"""@nni.variable(nni.gaussian(0, 1), name=x)"""\nx = 2\n', 2, "first argument is a sampling function"),
    ('"""@nni.variable(nni.choice(1, 2), name=x[0])"""\nx = 2\n', 2, "a name or an attribute"),
    ('"""@nni.variable(nni.choice(1, 1), name=x)"""\nx = 2\n', 2, "lists the option 1 twice"),
    ('"""@nni.variable(nni.choice(), name=x)"""\nx = 2\n', 2, "at least one option"),
    ('if True:\n    x = 1\n    """@nni.variable(nni.choice(1, 2), name=x)"""\n', 4, "annotates nothing"),
    ('"""@nni.variable(nni.choice(1, 2), name=x)"""\n"""@nni.report_final_result(1)"""\nx = 1\n', 2,
     "the next statement is another annotation (cell line 3)"),
    ('"""@nni.function_choice(f(1), g(1), name=h)"""\ny = f(2)\n', 2, "contains none of its expressions"),
    ('"""@nni.function_choice(f(1), g(1))"""\ny = f(1)\n', 2, "@nni.function_choice needs name=..."),
    ('"""@nni.report_final_result()"""\n', 2, "@nni.report_final_result takes one value"),
    ('"""@nni.get_next_parameter(1)"""\n', 2, "takes no arguments"),
    ('"""@nni.variable(nni.choice(1, 2), name=x)"""\nx = 1\n"""@nni.variable(nni.choice(1, 3), name=x)"""\nx = 1\n', 4,
     "annotates it with"),
    ('"""@nni.variable(nni.choice(1, 2), name=x, q=1)"""\nx = 1\n', 2, "takes only the keyword name=..., got q"),
])
def test_a_malformed_annotation_names_its_cell_line(cell, line, message):
    with pytest.raises(SearchSpaceError) as info:
        compile_cell(cell, {})
    assert str(info.value).startswith(f"cell line {line}: "), str(info.value)
    assert message in str(info.value)


def test_a_multi_line_annotation_names_the_line_of_its_text():
    cell = 'x = 1\n"""\n@nni.variable(nni.uniform(1), name=x)\n"""\nx = 2\n'
    with pytest.raises(SearchSpaceError, match=r"^cell line 4: x: uniform needs 2 values"):
        compile_cell(cell, {})


def test_an_annotated_name_cannot_also_be_declared_or_in_the_space_option():
    cell = '"""@nni.variable(nni.choice(1, 2), name=x)"""\nx = 1\ny = at.uniform(0, 1)\n'
    with pytest.raises(SearchSpaceError, match=r"cell line 2: parameter 'x' is annotated and in --space"):
        compile_cell(cell, {}, space_params=("x",))
    cell = 'x = at.uniform(0, 1)\n"""@nni.variable(nni.choice(1, 2), name=x)"""\nx = 1\n'
    with pytest.raises(SearchSpaceError, match=r"cell line 3: parameter 'x' is annotated and declared \(line 2\)"):
        compile_cell(cell, {})


def test_an_error_in_a_chosen_expression_points_at_the_annotation_line():
    cell = '''
    """@nni.function_choice(1 / 0, 2, name=f)"""
    y = 1 / 0
    y
    '''
    outcome, _ = run(cell, {"f": "1 / 0"})
    assert outcome.kind is OutcomeKind.ERROR
    assert "ZeroDivisionError" in outcome.error and "line 3" in outcome.error


def test_strings_that_are_not_annotations_are_left_alone():
    cell = '''
    """A docstring about @nni.variable, not an annotation."""
    x = at.choice([1, 2])
    "@nni.variable(...) in a string that does not start the statement" if x else None
    '''
    assert result(cell, {"x": 1}) == "@nni.variable(...) in a string that does not start the statement"


def test_a_program_file_gets_its_parameters_after_its_docstring_and_errors_name_the_file():
    source = '"""doc"""\nfrom __future__ import annotations\n"""@nni.variable(nni.choice(1, 2), name=depth)"""\ndepth = 0\n'
    transformed, space = annotate_file(source, "pkg/main.py")
    assert space == {"depth": {"_type": "choice", "_value": [1, 2]}}
    assert transformed.splitlines()[:4] == ['"""doc"""', "from __future__ import annotations",
                                           "import nni as __autotune_nni__",
                                           "__autotune_params__ = __autotune_nni__.get_next_parameter()"]
    assert "depth = __autotune_params__['depth']" in transformed
    assert annotate_file("x = 1\n", "plain.py") is None
    with pytest.raises(SearchSpaceError, match=r"^pkg/main.py line 2: @nni.variable needs name="):
        annotate_file('import os\n"""@nni.variable(nni.choice(1, 2))"""\nx = 1\n', "pkg/main.py")
