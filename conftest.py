"""Collection settings for the docstring examples (``--doctest-modules`` over ``skinterp/``).

``skinterp.distributed`` needs the optional ``dask`` extra: without it its modules cannot be
imported, so their docstring examples are not collected (``tests/distributed`` skips itself
with the reason).
"""

from importlib.util import find_spec

collect_ignore_glob = [] if find_spec("distributed") else ["skinterp/distributed/*"]
