"""Figures of a script run: shown on a screen, saved without one."""

import sys
from pathlib import Path

# matplotlib's built-in backends that draw to files, not to a screen (its BackendFilter
# NON_INTERACTIVE list, which matplotlib < 3.9 does not expose).
FILE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def show_figures(name, *, folder="."):
    """Show the open matplotlib figures; without a screen, save them as PNG files instead.

    The last line of every gallery example. With an interactive backend it calls
    ``plt.show()``. Under a backend that draws to files (``MPLBACKEND=Agg``, a server, CI) a
    script run would otherwise print its tables and lose its figures, so each open figure is
    saved as ``NAME.png`` (``NAME_2.png``, ... for more than one) in ``folder``, the path is
    printed, and the figures are closed. Inside a sphinx-gallery build it does nothing: the
    gallery captures the figures itself.

    Parameters
    ----------
    name : str
        The stem of the file names, e.g. the example's name.
    folder : str or path, default="."
        Where the files go.

    Returns
    -------
    paths : list of pathlib.Path
        The files written (empty when the figures were shown or captured).

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> _ = plt.plot([0, 1], [1, 0])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = show_figures("line", folder=folder)  # doctest: +ELLIPSIS
    saved ...line.png
    >>> [path.name for path in paths]
    ['line.png']
    """
    import matplotlib.pyplot as plt

    if "sphinx_gallery" in sys.modules:
        return []
    if plt.get_backend().lower() not in FILE_BACKENDS:
        plt.show()
        return []
    paths = []
    for position, number in enumerate(plt.get_fignums(), start=1):
        suffix = "" if position == 1 else f"_{position}"
        path = Path(folder) / f"{name}{suffix}.png"
        plt.figure(number).savefig(path, dpi=100)
        print(f"saved {path}")
        paths.append(path)
    plt.close("all")
    return paths
