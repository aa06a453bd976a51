"""The two auto-bandwidth rules: one function, a rule per kind of model."""

import numpy as np
import pytest

from skinterp.kernels._bandwidth import auto_bandwidth, median_distance, nearest_neighbour_distance


def test_rules_are_the_documented_distances_and_equivariant():
    X = np.random.default_rng(0).normal(size=(300, 4))
    assert auto_bandwidth(X) == nearest_neighbour_distance(X)
    assert auto_bandwidth(X, rule="median") == median_distance(X)
    # The neighbour rule is the shorter distance (a narrower kernel for exact interpolants).
    assert auto_bandwidth(X) < auto_bandwidth(X, rule="median")
    assert auto_bandwidth(4.0 * X + 1e3, rule="median") == pytest.approx(
        4.0 * auto_bandwidth(X, rule="median"), rel=1e-9
    )


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="rule"):
        auto_bandwidth(np.eye(3), rule="mean")
