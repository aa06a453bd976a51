"""Reproducible experiments of the paper, one module per phenomenon.

Each experiment is a function returning a result object with ``table()`` (and, where it makes
sense, ``plot()``); the command line (``python -m skinterp``) and the example gallery call them.
"""
