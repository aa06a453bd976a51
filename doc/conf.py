"""Sphinx configuration: numpydoc API pages and the executed sphinx-gallery of examples/.

Build (what ``.ci/run`` does, warnings are errors)::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html doc /tmp/skinterp-docs/html

Which examples are *executed* is set by the environment variable ``SKINTERP_DOCS_EXAMPLES``:

* unset, empty or ``all``: every ``examples/plot_*.py`` runs (the default, and what CI does);
* ``none``: none runs; every example is rendered as code and text, without output (fast);
* a comma-separated list of names, with or without the ``plot_`` prefix and ``.py`` suffix,
  e.g. ``SKINTERP_DOCS_EXAMPLES=pipeline_comparison,double_descent``: only those run.

The examples run with their quick settings; they read real data only if ``SKINTERP_DATA`` is
set (else MNIST falls back to a download, then to scikit-learn's digits).
"""

import os
import re

import skinterp

project = "skinterp"
author = "the skinterp developers"
copyright = "2026, the skinterp developers"  # noqa: A001 (Sphinx's name)
version = release = skinterp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
exclude_patterns = ["_build", "**/sg_execution_times.rst"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Interpolating learners for scikit-learn",
    "page_width": "1100px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}


def executed_examples_pattern(selection):
    """The sphinx-gallery ``filename_pattern`` (a regex on paths) for ``SKINTERP_DOCS_EXAMPLES``.

    ``""``/``"all"`` -> every ``plot_*.py``; ``"none"`` -> nothing; ``"plot_a.py, b"`` ->
    ``plot_a.py`` and ``plot_b.py``. A name that is not a Python identifier is a ValueError.
    """
    selection = selection.strip()
    if selection.lower() in {"", "all"}:
        return r"/plot_"
    if selection.lower() == "none":
        return r"^$"
    names = []
    for item in selection.split(","):
        name = item.strip().removesuffix(".py").removeprefix("plot_")
        if not re.fullmatch(r"\w+", name):
            raise ValueError(
                f"SKINTERP_DOCS_EXAMPLES: {item!r} is not an example name; expected 'all', "
                "'none' or comma-separated names such as 'pipeline_comparison,double_descent'."
            )
        names.append(name)
    return r"/plot_(" + "|".join(names) + r")\.py$"


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": executed_examples_pattern(os.environ.get("SKINTERP_DOCS_EXAMPLES", "")),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    # Failing examples fail the build (sphinx-gallery's default, stated for the reader).
    "only_warn_on_example_error": False,
}

# scikit-learn's inherited docstrings (``score``) link to labels of scikit-learn's own docs; we
# build offline (no intersphinx download), so point those links at the published pages.
_SKLEARN_LABELS = {
    "r2_score": "https://scikit-learn.org/stable/modules/model_evaluation.html#r2-score",
    "accuracy_score": (
        "https://scikit-learn.org/stable/modules/model_evaluation.html#accuracy-score"
    ),
}
_SKLEARN_REF = re.compile(r":ref:`([^`<]+?)\s*<(" + "|".join(_SKLEARN_LABELS) + r")>`")
# numpydoc renders a type such as "ndarray of shape (n_features_in_,)" as reStructuredText, where
# a word ending in "_" is a hyperlink reference; quote such names inside "shape (...)".
_SHAPE = re.compile(r"shape \(([^)]*)\)")
_TRAILING_UNDERSCORE_NAME = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_shape(match):
    return "shape (" + _TRAILING_UNDERSCORE_NAME.sub(r"``\1``", match.group(1)) + ")"


def _external_link(match):
    return f"`{match.group(1)} <{_SKLEARN_LABELS[match.group(2)]}>`__"


def fix_external_markup(app, what, name, obj, options, lines):
    """Rewrite, in every docstring, the markup that only resolves in scikit-learn's docs."""
    for index, line in enumerate(lines):
        line = _SKLEARN_REF.sub(_external_link, line)
        lines[index] = _SHAPE.sub(_quote_shape, line)


def setup(app):
    # Before numpydoc (priority 500) turns the sections into reStructuredText.
    app.connect("autodoc-process-docstring", fix_external_markup, priority=100)
