"""Progress of long calls: one line per step on stderr, with the time spent and the time left.

One line per step (not a redrawn bar) reads the same in a terminal, a log file, a CI run and a
sphinx-gallery page.
"""

import sys
import time


def format_duration(seconds):
    """The package's one way of writing a duration: ``"12.3 s"``, ``"3 min 05 s"``, ``"2.5 h"``.

    Examples
    --------
    >>> from skinterp._progress import format_duration
    >>> format_duration(0.25), format_duration(185), format_duration(9000)
    ('0.2 s', '3 min 05 s', '2.5 h')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        minutes, seconds = divmod(int(round(seconds)), 60)
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds / 3600:.3g} h"


def progress(items, description, *, verbose=True, total=None, stream=None, min_interval=0.0):
    """Yield ``items``, writing ``description [i/n] spent ..., left ~...`` after each one.

    Parameters
    ----------
    items : iterable
        What to iterate over.
    description : str
        What is being done, at the start of every line.
    verbose : bool or int, default=True
        Write nothing when false.
    total : int or None
        The number of items, when ``items`` has no ``len``.
    stream : file or None
        Where to write; ``sys.stderr`` when None.
    min_interval : float, default=0.0
        Seconds between lines: with ``min_interval=1`` a loop of many short steps writes at
        most a line a second, and always the last one.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> [item for item in progress([1, 2], "squaring", stream=stream)]
    [1, 2]
    >>> stream.getvalue().splitlines()[1].startswith("squaring [2/2]")
    True
    """
    if not verbose:
        yield from items
        return
    stream = sys.stderr if stream is None else stream
    if total is None:
        total = len(items) if hasattr(items, "__len__") else None
    start = last = time.perf_counter()
    for done, item in enumerate(items, start=1):
        yield item
        now = time.perf_counter()
        spent = now - start
        if now - last < min_interval and (total is None or done < total):
            continue
        last = now
        count = f"{done}/{total if total is not None else '?'}"
        line = f"{description} [{count}] spent {format_duration(spent)}"
        if total is not None and done < total:
            line += f", left ~{format_duration(spent / done * (total - done))}"
        print(line, file=stream, flush=True)
