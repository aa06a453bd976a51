"""The one result type of every experiment (and of the demo).

An experiment returns an :class:`ExperimentResult`: its measurements as ``rows`` (one dict per
grid point and method), the few headline numbers as ``summary``, the paper's (or our measured
reference) numbers under the same keys as ``reference``, and the settings it ran with as
``params``. Everything else (the text table, a pandas frame, JSON, a figure) is derived from
those fields, so that a result read back from JSON prints and plots as the original did.

Plots are declared, not coded, in the common case: ``plot_spec`` names the column on the x axis,
the columns drawn (one panel each), the column that separates the curves, log axes and
horizontal reference lines. An experiment whose figure does not fit that shape subclasses
:class:`ExperimentResult` and overrides :meth:`ExperimentResult.plot` only.
"""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


def _plain(value):
    """``value`` with numpy scalars and arrays turned into Python numbers and lists (for JSON)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _format(value, width):
    if isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
    elif isinstance(value, (int, np.integer)):
        text = f"{int(value):d}"
    elif isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            text = "-"
        elif value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            text = f"{value:.3e}"
        else:
            text = f"{value:.4g}"
    elif value is None:
        text = "-"
    else:
        text = str(value)
    return text.rjust(width)


def format_table(rows, columns=None):
    """An aligned text table of ``rows`` (dicts) with the given ``columns`` (all, by default).

    Text columns are aligned left, numbers right; NaN and None show as ``-``.
    """
    if not rows:
        return "(no rows)"
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_format(row.get(column), 0).strip() for column in columns] for row in rows]
    widths = [
        max(len(str(column)), *(len(line[i]) for line in cells))
        for i, column in enumerate(columns)
    ]
    textual = [
        all(isinstance(row.get(column), (str, type(None))) for row in rows) for column in columns
    ]

    def line_of(texts):
        return "  ".join(
            text.ljust(width) if left else text.rjust(width)
            for text, width, left in zip(texts, widths, textual)
        )

    header = line_of([str(column) for column in columns])
    lines = [header, "-" * len(line_of(["-" * width for width in widths]))]
    lines += [line_of(line) for line in cells]
    return "\n".join(lines)


@dataclass
class ExperimentResult:
    """Measurements of one experiment, with a table, a frame, JSON and a figure derived from them.

    Parameters
    ----------
    name : str
        The experiment's name, as listed by ``python -m skinterp list``.
    rows : list of dict
        One dict per grid point and method; every row has the same keys.
    summary : dict
        The headline numbers (``name -> float``) that the experiment reproduces.
    reference : dict
        The paper's numbers (or our measured reference at full settings) under the keys of
        ``summary`` that they correspond to; a key may be missing where there is none.
    params : dict
        The settings the experiment ran with (sizes, seed, data source, ...).
    elapsed : float
        Wall-clock seconds of the run.
    plot_spec : dict
        How :meth:`plot` draws ``rows``: ``x`` (column), ``y`` (column or list of columns, one
        panel each), ``hue`` (column separating the curves, optional), ``xscale``/``yscale``
        (``"linear"`` or ``"log"``, or ``yscale`` a list, one per panel), ``hlines`` (dict
        ``label -> value``, drawn on every panel, or ``label -> {column: value}`` per panel),
        ``title``.
    description : str
        One line saying what the experiment shows.

    Examples
    --------
    >>> from skinterp.experiments import ExperimentResult
    >>> result = ExperimentResult(
    ...     "toy", rows=[{"n": 10, "error": 0.5}, {"n": 100, "error": 0.25}],
    ...     summary={"final error": 0.25}, reference={"final error": 0.2})
    >>> print(result.table())
      n  error
    ----------
     10    0.5
    100   0.25
    >>> print(result.summary_table())
    headline     measured  reference
    --------------------------------
    final error      0.25        0.2
    """

    name: str
    rows: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    elapsed: float = float("nan")
    plot_spec: dict = field(default_factory=dict)
    description: str = ""

    def table(self, columns=None):
        """The rows as an aligned text table (``columns``: which, in order; all by default)."""
        return format_table(self.rows, columns)

    def summary_table(self):
        """The headline numbers beside their reference values, as a text table."""
        rows = [
            {"headline": key, "measured": value, "reference": self.reference.get(key)}
            for key, value in self.summary.items()
        ]
        return format_table(rows, ["headline", "measured", "reference"])

    def report(self):
        """Everything a reader needs on a terminal: settings, table, headline numbers, time."""
        settings = ", ".join(f"{key}={value}" for key, value in self.params.items())
        title = f"{self.name}: {self.description}" if self.description else self.name
        return "\n\n".join(
            [
                f"{title}\nsettings: {settings}",
                self.table(),
                self.summary_table(),
                f"run time: {self.elapsed:.1f} s",
            ]
        )

    def to_frame(self):
        """The rows as a :class:`pandas.DataFrame` (pandas is imported only here)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_dict(self):
        """All fields as plain Python values (what :meth:`to_json` writes)."""
        return _plain(asdict(self))

    def to_json(self, path=None):
        """Write the result to ``path`` as JSON (and return the JSON text)."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, path_or_text):
        """Read a result written by :meth:`to_json` (a path or the JSON text itself)."""
        text = str(path_or_text)
        if not text.lstrip().startswith("{"):
            text = Path(path_or_text).read_text()
        fields = json.loads(text)
        fields["elapsed"] = float("nan") if fields.get("elapsed") is None else fields["elapsed"]
        return cls(**fields)

    def plot(self, ax=None):
        """Draw the result as ``plot_spec`` says (matplotlib is imported only here).

        Parameters
        ----------
        ax : matplotlib Axes, sequence of Axes, or None
            Where to draw: one Axes per column of ``plot_spec["y"]``; a new figure when None.

        Returns
        -------
        axes : list of matplotlib Axes
        """
        import matplotlib.pyplot as plt

        spec = self.plot_spec
        if not spec:
            raise ValueError(f"The experiment {self.name!r} declares no plot.")
        columns = spec["y"] if isinstance(spec["y"], (list, tuple)) else [spec["y"]]
        if ax is None:
            _, ax = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.4), squeeze=False)
            ax = ax[0]
        axes = list(np.atleast_1d(ax))
        if len(axes) != len(columns):
            raise ValueError(f"plot needs {len(columns)} Axes, got {len(axes)}.")
        hue = spec.get("hue")
        groups = list(dict.fromkeys(row[hue] for row in self.rows)) if hue else [None]
        yscales = spec.get("yscale", "linear")
        yscales = yscales if isinstance(yscales, (list, tuple)) else [yscales] * len(columns)
        for panel, (axis, column, yscale) in enumerate(zip(axes, columns, yscales)):
            for group in groups:
                rows = [row for row in self.rows if hue is None or row[hue] == group]
                points = [
                    (row[spec["x"]], row[column])
                    for row in rows
                    if row.get(column) is not None and row.get(spec["x"]) is not None
                ]
                if points:
                    x, y = zip(*points)
                    axis.plot(x, y, "o-", ms=3, label=None if group is None else str(group))
            for index, (label, value) in enumerate(spec.get("hlines", {}).items()):
                value = value.get(column) if isinstance(value, dict) else value
                if value is not None:
                    axis.axhline(value, color=f"C{len(groups) + index}", ls=":", label=label)
            axis.set_xscale(spec.get("xscale", "linear"))
            axis.set_yscale(yscale)
            axis.set_xlabel(spec["x"])
            axis.set_ylabel(column)
            if panel == 0 and spec.get("title"):
                axis.set_title(spec["title"], fontsize="medium")
            if axis.get_legend_handles_labels()[0]:
                axis.legend(fontsize="small")
        axes[0].figure.tight_layout()
        return axes
