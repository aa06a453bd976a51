"""Issue 10: trustworthy answers or clear errors on unusual inputs, for every public estimator."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsRegressor

from skinterp import (
    KernelInterpolationClassifier,
    KernelInterpolator,
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    RandomFourierFeatures,
    SimplicialClassifier,
    SimplicialInterpolator,
    SingularKernelNN,
    SingularKernelNNClassifier,
)
from skinterp._base import InterpolationWarning

REGRESSORS = [SingularKernelNN, SimplicialInterpolator, KernelInterpolator, MinNormRFFRegressor]
CLASSIFIERS = [
    SingularKernelNNClassifier,
    SimplicialClassifier,
    KernelInterpolationClassifier,
    MinNormRFFClassifier,
]


# --- section 3: bad input and bad parameters ------------------------------------------------
@pytest.mark.parametrize("Estimator", REGRESSORS)
def test_none_target_is_a_clear_error(Estimator):
    X = np.random.RandomState(0).rand(20, 2)
    y = np.arange(20.0).astype(object)
    y[3] = None
    with pytest.raises(ValueError, match="missing"):
        Estimator().fit(X, y)


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_none_label_is_a_clear_error(Estimator):
    X = np.random.RandomState(0).rand(20, 2)
    y = np.array(["a", "b"] * 10, dtype=object)
    y[3] = None
    with pytest.raises(ValueError, match="missing class labels"):
        Estimator().fit(X, y)


@pytest.mark.parametrize("bandwidth", [1e-300, 1e300])
def test_extreme_bandwidth_is_a_clear_error(bandwidth):
    X = np.random.RandomState(0).rand(20, 2)
    with pytest.raises(ValueError, match="bandwidth=.*rescale X"):
        KernelInterpolator(bandwidth=bandwidth).fit(X, X[:, 0])


@pytest.mark.parametrize("bad", ["nan", "shape", "not_psd"])
def test_bad_kernel_callable_is_a_clear_error(bad):
    X = np.random.RandomState(0).rand(30, 2)

    def kernel(A, B):
        K = np.exp(-np.sqrt(((A[:, None] - B[None]) ** 2).sum(-1)))
        if bad == "nan":
            K[0, 0] = np.nan
        elif bad == "shape":
            K = K[:, :-1]
        else:
            K = -K
        return K

    with pytest.raises(ValueError, match="kernel callable"):
        KernelInterpolator(kernel=kernel, solver="direct").fit(X, X[:, 0])


def test_eigenpro_divergence_names_step_size():
    X = np.random.RandomState(0).rand(200, 5)
    with pytest.raises(FloatingPointError, match="step_size"):
        KernelInterpolator(solver="eigenpro", step_size=1e6, random_state=0).fit(X, X[:, 0])


def test_eigenpro_without_progress_warns():
    X = np.random.RandomState(0).rand(200, 5)
    with pytest.warns(ConvergenceWarning, match="no progress"):
        KernelInterpolator(solver="eigenpro", step_size=1e-300, n_epochs=3, random_state=0).fit(
            X, X[:, 0] + 1
        )


@pytest.mark.parametrize("Estimator", [RandomFourierFeatures, MinNormRFFRegressor])
def test_huge_n_components_refused_before_allocating(Estimator):
    X = np.random.RandomState(0).rand(10, 3)
    with pytest.raises(MemoryError, match="n_components"):
        Estimator(n_components=10**12).fit(X, X[:, 0])


# --- section 1: affine invariance in floating point -------------------------------------------
@settings(max_examples=15, deadline=None)
@given(
    offset=st.floats(-1e8, 1e8),
    exponent=st.integers(-500, 500),
    method=st.sampled_from(["triangulation", "lifted"]),
)
def test_simplicial_predictions_are_affine_invariant(offset, exponent, method):
    """Stated tolerance (class Notes): 1e-9 relative to the targets' range; an offset of 1e8
    rounds the unit-scale data to 1.5e-8, hence the looser bound there."""
    rng = np.random.RandomState(0)
    X = rng.rand(40, 2)
    y = rng.randn(40)
    Q = 0.2 + 0.6 * rng.rand(20, 2)
    base = SimplicialInterpolator(method=method).fit(X, y).predict(Q)
    scale = 2.0**exponent
    moved = SimplicialInterpolator(method=method).fit(X * scale + offset * scale, y)
    tolerance = 1e-9 + 1e-6 * abs(offset) * np.finfo(float).eps * 1e8
    np.testing.assert_allclose(
        moved.predict(Q * scale + offset * scale), base, rtol=0, atol=tolerance * np.ptp(y)
    )
    np.testing.assert_allclose(
        moved.predict(X * scale + offset * scale), y, rtol=0, atol=tolerance * np.ptp(y)
    )


@pytest.mark.parametrize("scale", [1e160, 1e300, 1e-300, 1e-310])
@pytest.mark.parametrize("Estimator", [SimplicialInterpolator, SimplicialClassifier])
def test_simplicial_interpolates_at_extreme_scales(Estimator, scale):
    rng = np.random.RandomState(1)
    X = rng.rand(60, 2) ** 2
    y = rng.randn(60) if Estimator is SimplicialInterpolator else (rng.rand(60) > 0.5)
    for method in ["triangulation", "lifted"]:
        predicted = Estimator(method=method).fit(X * scale, y).predict(X * scale)
        if Estimator is SimplicialInterpolator:
            np.testing.assert_allclose(predicted, y, atol=1e-8)
        else:
            assert np.array_equal(predicted, y)


def test_simplicial_matches_linearnd_at_offset_1e8():
    from scipy.interpolate import LinearNDInterpolator

    rng = np.random.RandomState(0)
    U = rng.rand(200, 2) ** 2
    y = rng.randn(200)
    Q = 0.2 + 0.5 * rng.rand(100, 2)
    reference = LinearNDInterpolator(U, y)(Q)
    predicted = SimplicialInterpolator().fit(1e8 + U, y).predict(1e8 + Q)
    # 1e8 + U is U rounded to 1.5e-8: the geometry is exact up to that.
    np.testing.assert_allclose(predicted, reference, atol=1e-5)


@pytest.mark.parametrize(
    "offset, exponent",
    [
        (1e6, 0),
        (1e12, 0),
        (0.0, 500),
        (0.0, -500),
        (0.0, 1000),
        (0.0, -1000),
    ],
)
def test_singular_kernel_nn_exact_at_large_offsets_and_scales(offset, exponent):
    """alpha=1 needs exact distance ratios: the search works on differences, not on
    ||x||^2 - 2 x.z + ||z||^2 (scikit-learn's brute force is off by 0.16 at offset 1e6)."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 8, size=(200, 20)).astype(float)
    y = rng.randn(200)
    Q = X[:10] + 0.5
    base = SingularKernelNN(n_neighbors=5, alpha=1.0, algorithm="brute").fit(X, y).predict(Q)
    scale = 2.0**exponent
    moved = (
        SingularKernelNN(n_neighbors=5, alpha=1.0, algorithm="brute")
        .fit((X + offset) * scale, y)
        .predict((Q + offset) * scale)
    )
    np.testing.assert_allclose(moved, base, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("Estimator", [KernelInterpolator, KernelInterpolationClassifier])
def test_kernel_machine_invariant_to_offset(Estimator):
    rng = np.random.RandomState(0)
    X = rng.rand(200, 20)
    y = np.sin(X.sum(1)) if Estimator is KernelInterpolator else (X[:, 0] > 0.5)
    Q = rng.rand(50, 20)
    base = Estimator(bandwidth=2.0).fit(X, y)
    moved = Estimator(bandwidth=2.0).fit(X + 1e6, y)
    if Estimator is KernelInterpolator:
        np.testing.assert_allclose(moved.predict(Q + 1e6), base.predict(Q), atol=1e-8)
    else:
        assert np.array_equal(moved.predict(Q + 1e6), base.predict(Q))
    assert moved.train_residual_ < 1e-6  # RESIDUAL_RTOL of float64


@pytest.mark.parametrize("Estimator", [KernelInterpolator, KernelInterpolationClassifier])
def test_kernel_machine_warns_on_numerically_singular_kernel(Estimator):
    rng = np.random.RandomState(0)
    X = rng.rand(50, 3) * 1e-300
    y = np.arange(50) % 2
    with pytest.warns(InterpolationWarning, match="bandwidth"):
        Estimator(bandwidth=1.0).fit(X, y)


# --- section 2: degenerate geometry -----------------------------------------------------------
def test_near_duplicates_in_direct_solve_warn():
    rng = np.random.RandomState(0)
    X = rng.rand(30, 2)
    X[1] = X[0] + 1e-13
    y = rng.randn(30)
    with pytest.warns(InterpolationWarning, match="near-duplicate"):
        model = KernelInterpolator(solver="direct").fit(X, y)
    assert model.train_residual_ > 1e-6


def test_eigenpro_on_identical_rows_warns():
    # Exact duplicates are merged (their targets averaged) before the solver: the prediction
    # is the targets' mean, and the warning says the rows cannot all be interpolated.
    with pytest.warns(InterpolationWarning, match="19 training rows are exact duplicates"):
        model = KernelInterpolator(solver="eigenpro", random_state=0).fit(
            np.ones((20, 3)), np.arange(20.0)
        )
    np.testing.assert_allclose(model.predict(np.ones((2, 3))), 9.5)
    assert not model.interpolates_


def test_well_posed_fits_do_not_warn():
    rng = np.random.RandomState(0)
    X = rng.rand(100, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KernelInterpolator(bandwidth=0.5).fit(X, X[:, 0])
        # EigenPro runs to the interpolation tolerance (tol=1e-6): 109 epochs here, above
        # the default cap of 100 (which would warn, rightly, naming n_epochs).
        KernelInterpolator(solver="eigenpro", bandwidth=0.5, n_epochs=300, random_state=0).fit(
            X, X[:, 0]
        )


def test_singular_kernel_nn_zero_distance_case_of_scikit_learn():
    """scikit-learn's test_neighbors_regressors_zero_distance: merged duplicates count with
    their multiplicity (expected 1.25 as in scikit-learn)."""
    X = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [2.5, 2.5]])
    y = np.array([1.0, 1.5, 2.0, 0.0])
    reference = KNeighborsRegressor(n_neighbors=2, weights="distance").fit(X, y)
    ours = SingularKernelNN(n_neighbors=2, alpha=1.0).fit(X, y)
    np.testing.assert_allclose(ours.predict([[1.1, 1.1]]), reference.predict([[1.1, 1.1]]))
