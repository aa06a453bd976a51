"""Sphinx configuration: numpydoc API pages and the sphinx-gallery of examples/."""

import skinterp

project = "skinterp"
version = release = skinterp.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # execute every example when the docs are built
}
exclude_patterns = ["_build"]
html_theme = "alabaster"
