"""``at.compare``: several studies, given as objects or stored names, side by side (see
``views/comparison.py`` for what is shown)."""

from __future__ import annotations

import os
from typing import Iterable

from .store.protocol import StudyStorage
from .views.comparison import Comparison, compare_trials
from .views.study_view import StudyView


def compare(studies: Iterable[StudyView | str], *,
            storage: StudyStorage | str | os.PathLike | bool = True) -> Comparison:
    """Best-so-far curves of ``studies`` on one chart and a table of their bests, best first.

    Each study is a ``Study`` (any ``StudyView``) or the name of one in ``storage`` (default: the
    default store file). The studies must share their direction. In a notebook the result shows
    as HTML with an SVG chart; from Python, ``print`` it or read its ``rows``.

    Example:
        >>> at.compare(["mnist-tpe", "mnist-random", "mnist-evolution"])   # doctest: +SKIP
    """
    if isinstance(studies, (str, StudyView)):
        studies = [studies]
    loaded = [_load(study, storage) if isinstance(study, str) else study for study in studies]
    return compare_trials([(study.config, study.trials) for study in loaded])


def _load(name: str, storage) -> StudyView:
    from .study import Study

    return Study.load(name, storage=storage)
