"""Pure views of a study: trial records in; chart records, HTML and SVG out.

Nothing here needs a kernel or a widget, so the engine may use it (``Study._repr_mimebundle_``
writes the static view) as well as the notebook layer (the live dashboard draws ``charts``'
records). It imports only the engine's records: trials, config, space, vocabulary, export, errors.

* ``charts``: one snapshot of the trials -> one small immutable record per chart;
* ``static``: the MIME bundle a saved notebook keeps (study JSON, HTML table, SVG chart);
* ``study_view``: ``StudyView``, the read-only side of a study that the views and the dashboard use;
* ``importance``: which parameters matter (PED-ANOVA), ``at.importance``;
* ``comparison``: several studies' best-so-far curves and bests (``at.compare``).
"""
