"""MinNormRFFRegressor and MinNormRFFClassifier: minimum-norm least squares on random features."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.linear_model import LinearRegression

from skinterp import MinNormRFFClassifier, MinNormRFFRegressor
from skinterp.random_features import limit_kernel


def features_of(model, X):
    """The scaled features of ``model``'s stored weights, computed the obvious way."""
    pre_activation = np.asarray(X, dtype=np.float64) @ model.random_weights_ + model.random_offset_
    if model.features == "fourier":
        activation = np.cos(pre_activation)
    else:
        activation = np.maximum(pre_activation, 0.0)
    return np.sqrt(2.0 / model.random_weights_.shape[1]) * activation


def relative_error(actual, expected):
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


def regression_data(n_samples, n_features=3, n_outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    Y = np.column_stack([np.sin(X @ rng.normal(size=n_features)) for _ in range(n_outputs)])
    Y += 0.3 * rng.normal(size=Y.shape)  # noise: interpolating it is the point
    X_test = rng.normal(size=(50, n_features))
    return X, Y, X_test


@pytest.mark.parametrize("features", ["fourier", "relu"])
@pytest.mark.parametrize(
    "n_samples, n_components, bandwidth",
    [(300, 60, 1.0), (60, 600, 0.5)],
    ids=["below-threshold", "above-threshold"],
)
def test_predictions_equal_linear_regression_on_the_same_features(
    features, n_samples, n_components, bandwidth
):
    X, Y, X_test = regression_data(n_samples)
    model = MinNormRFFRegressor(
        n_components=n_components,
        bandwidth=bandwidth,
        features=features,
        random_state=0,
        cutoff=1e-7,  # the exact pseudo-inverse (the default 1e-3 regularises)
    ).fit(X, Y)
    Phi = features_of(model, X)
    assert np.linalg.cond(Phi) < 1e4  # well conditioned: the comparison is about the solver
    peer = LinearRegression(fit_intercept=False, tol=0).fit(Phi, Y)
    assert model.solver_ == ("primal" if n_components < n_samples else "dual")
    assert relative_error(model.predict(X), peer.predict(Phi)) < 1e-6
    assert relative_error(model.predict(X_test), peer.predict(features_of(model, X_test))) < 1e-6
    assert relative_error(model.coef_, peer.coef_.T) < 1e-6  # the same minimum-norm solution
    np.testing.assert_allclose(model.coef_norm_, np.linalg.norm(peer.coef_), rtol=1e-6)
    assert model.rank_ == min(n_samples, n_components)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_samples=st.integers(20, 80),
    ratio=st.sampled_from([0.25, 0.5, 2.0, 4.0]),
    features=st.sampled_from(["fourier", "relu"]),
)
def test_primal_and_dual_agree_away_from_the_threshold(seed, n_samples, ratio, features):
    X, Y, X_test = regression_data(n_samples, seed=seed)
    n_components = max(int(ratio * n_samples), 1)
    params = dict(n_components=n_components, bandwidth=1.0, features=features, random_state=seed)
    primal = MinNormRFFRegressor(solver="primal", **params).fit(X, Y)
    dual = MinNormRFFRegressor(solver="dual", **params).fit(X, Y)
    assert primal.solver_ == "primal" and dual.solver_ == "dual"
    # Agreement is limited by the conditioning of Phi (the Gram matrices square it).
    # (dead ReLU units or tiny N can make Phi rank deficient: those draws are skipped).
    singular_values = np.linalg.svd(features_of(primal, X), compute_uv=False)
    assume(singular_values[-1] * 1e4 > singular_values[0])
    assert relative_error(dual.predict(X_test), primal.predict(X_test)) < 1e-6
    assert relative_error(dual.coef_, primal.coef_) < 1e-6


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), n_samples=st.integers(5, 40), ratio=st.integers(2, 6))
def test_interpolant_has_minimum_norm_among_interpolants(seed, n_samples, ratio):
    X, Y, _ = regression_data(n_samples, seed=seed)
    model = MinNormRFFRegressor(
        n_components=ratio * n_samples, bandwidth=0.5, random_state=seed
    ).fit(X, Y)
    Phi = features_of(model, X)
    assert model.interpolates_
    np.testing.assert_allclose(Phi @ model.coef_, Y, atol=1e-6 * np.abs(Y).max())
    # Any other interpolant differs by a null-space vector z of Phi: the solution is orthogonal
    # to z (it lies in the row space), so adding z can only increase the norm.
    rng = np.random.default_rng(seed)
    u = rng.normal(size=model.coef_.shape)
    z = u - np.linalg.pinv(Phi) @ (Phi @ u)
    assert np.linalg.norm(Phi @ z) < 1e-8 * np.linalg.norm(u)
    assert abs(np.vdot(model.coef_, z)) < 1e-6 * np.linalg.norm(model.coef_) * np.linalg.norm(z)
    for t in (-1.0, 0.01, 3.0):
        assert np.linalg.norm(model.coef_ + t * z) > model.coef_norm_
    row_space = np.linalg.pinv(Phi) @ (Phi @ model.coef_)
    assert relative_error(row_space, model.coef_) < 1e-6


def test_kernel_limit_approaches_the_gaussian_kernel_interpolant():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1]
    X_test = rng.uniform(size=(200, 2))
    sigma = 0.15  # the kernel matrix has condition number 5e4
    kernel_prediction = limit_kernel(X_test, X, "fourier", sigma) @ np.linalg.solve(
        limit_kernel(X, X, "fourier", sigma), y
    )
    errors = {}
    for ratio in (5, 50, 500):
        model = MinNormRFFRegressor(n_components=ratio * 40, bandwidth=sigma, random_state=0)
        prediction = model.fit(X, y).predict(X_test)
        errors[ratio] = (
            np.abs(prediction - kernel_prediction).max() / np.abs(kernel_prediction).max()
        )
    # Stated tolerance at N = 50 n: 10% of the largest prediction (measured: 5%).
    assert errors[50] < 0.1
    assert errors[500] < errors[50] < errors[5]


def digits_subset():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:300], y[:300], X[1000:1500], y[1000:1500]


def test_test_loss_and_norm_peak_at_the_interpolation_threshold():
    X, y, X_test, y_test = digits_subset()
    one_hot = np.eye(10)[y_test]
    losses, norms = {}, {}
    for n_components in (150, 270, 300, 330, 3000):
        model = MinNormRFFClassifier(
            n_components=n_components, bandwidth=3.0, random_state=0, cutoff=1e-7
        )
        model.fit(X, y)
        scores = model._predict_targets(X_test)
        losses[n_components] = np.mean(np.sum((scores - one_hot) ** 2, axis=1))
        norms[n_components] = model.coef_norm_
    assert losses[300] > 10 * losses[3000]  # measured: 34 against 0.19
    assert losses[300] > 10 * losses[150]
    assert max(norms, key=norms.get) == 300
    assert max(losses, key=losses.get) == 300


def test_classifier_interpolates_string_labels_above_the_threshold():
    X, y, X_test, _ = digits_subset()
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    model = MinNormRFFClassifier(n_components=3000, bandwidth=3.0, random_state=0).fit(X, names[y])
    assert model.interpolates_ and model.train_residual_ < 1e-6
    assert list(model.classes_) == sorted(names)
    np.testing.assert_array_equal(model.predict(X), names[y])
    assert model.coef_.shape == (3000, 10)
    assert model.score(X_test, names[_]) > 0.9


def test_below_the_threshold_the_fit_is_least_squares_and_does_not_interpolate():
    X, Y, _ = regression_data(200)
    model = MinNormRFFRegressor(n_components=50, bandwidth=1.0, random_state=0, cutoff=1e-7)
    model.fit(X, Y)
    Phi = features_of(model, X)
    residual = np.max(np.abs(Y - Phi @ model.coef_)) / np.max(np.abs(Y))
    assert not model.interpolates_ and model.n_directions_cut_ == 0 and model.rank_ == 50
    np.testing.assert_allclose(model.train_residual_, residual, rtol=1e-6)
    np.testing.assert_allclose(Phi.T @ (Y - Phi @ model.coef_), 0, atol=1e-8)  # normal equations


def test_primal_residual_of_an_exact_fit_is_measured_exactly():
    # 8 distinct points repeated: 30 features are fewer than the 80 samples yet fit them exactly.
    rng = np.random.default_rng(1)
    X = np.repeat(rng.normal(size=(8, 2)), 10, axis=0)
    y = np.repeat(rng.normal(size=8), 10)
    model = MinNormRFFRegressor(n_components=30, bandwidth=0.5, random_state=0).fit(X, y)
    assert model.solver_ == "primal"
    assert model.interpolates_ and model.train_residual_ < 1e-8
    np.testing.assert_allclose(model.predict(X), y, atol=1e-7)


def test_same_random_state_same_model_and_nested_features():
    X, Y, X_test = regression_data(50)
    first = MinNormRFFRegressor(n_components=120, random_state=3).fit(X, Y)
    again = MinNormRFFRegressor(n_components=120, random_state=3).fit(X, Y)
    other = MinNormRFFRegressor(n_components=120, random_state=4).fit(X, Y)
    np.testing.assert_array_equal(first.coef_, again.coef_)
    np.testing.assert_array_equal(first.predict(X_test), again.predict(X_test))
    assert not np.allclose(first.predict(X_test), other.predict(X_test))
    smaller = MinNormRFFRegressor(n_components=70, random_state=3).fit(X, Y)
    np.testing.assert_array_equal(smaller.random_weights_, first.random_weights_[:, :70])


def test_blockwise_computation_does_not_change_the_result():
    # A tiny memory budget forces blocks of 32 features and chunks of 16 rows.
    X, Y, X_test = regression_data(30)
    for n_components in (20, 3000):
        whole = MinNormRFFRegressor(n_components=n_components, bandwidth=0.5, random_state=0)
        blocks = MinNormRFFRegressor(
            n_components=n_components, bandwidth=0.5, random_state=0, memory_limit=0.05
        )
        whole.fit(X, Y)
        blocks.fit(X, Y)
        assert relative_error(blocks.coef_, whole.coef_) < 1e-10
        assert relative_error(blocks.predict(X_test), whole.predict(X_test)) < 1e-10


def test_threads_do_not_change_the_result():
    X, Y, X_test = regression_data(40)
    serial = MinNormRFFRegressor(n_components=500, random_state=0).fit(X, Y)
    threaded = MinNormRFFRegressor(n_components=500, random_state=0, n_jobs=2).fit(X, Y)
    np.testing.assert_array_equal(serial.predict(X_test), threaded.predict(X_test))


def test_shapes_single_and_multi_output():
    X, Y, X_test = regression_data(30)
    single = MinNormRFFRegressor(n_components=100, random_state=0).fit(X, Y[:, 0])
    multi = MinNormRFFRegressor(n_components=100, random_state=0).fit(X, Y)
    assert single.predict(X_test).shape == (50,)
    assert single.coef_.shape == (100, 1)
    assert multi.predict(X_test).shape == (50, 2)
    np.testing.assert_allclose(single.predict(X_test), multi.predict(X_test)[:, 0], rtol=1e-10)


def test_float32_input_is_computed_in_float64_and_returned_as_float32():
    X, Y, X_test = regression_data(30)
    X32 = X.astype(np.float32)
    single = MinNormRFFRegressor(n_components=100, random_state=0).fit(X32, Y)
    double = MinNormRFFRegressor(n_components=100, random_state=0).fit(X32.astype(np.float64), Y)
    prediction = single.predict(X_test.astype(np.float32))
    assert prediction.dtype == np.float32
    expected = double.predict(X_test.astype(np.float32).astype(float))
    assert expected.dtype == np.float64
    np.testing.assert_array_equal(prediction, expected.astype(np.float32))


def test_cutoff_truncates_small_singular_values():
    X, y, _, _ = digits_subset()
    Y = np.eye(10)[y]
    exact = MinNormRFFRegressor(n_components=300, bandwidth=3.0, random_state=0).fit(X, Y)
    cut = MinNormRFFRegressor(n_components=300, bandwidth=3.0, random_state=0, cutoff=1e-2)
    cut.fit(X, Y)
    singular_values = np.linalg.svd(features_of(exact, X), compute_uv=False)
    kept = int(np.sum(singular_values > 1e-2 * singular_values[0]))
    assert cut.rank_ == kept < exact.rank_
    assert cut.coef_norm_ < exact.coef_norm_  # the peak is lower with a larger cut-off
    assert not cut.interpolates_


def test_memory_refusal_names_the_parameter_before_allocating():
    X, Y, _ = regression_data(200)
    with pytest.raises(MemoryError, match="memory_limit"):
        MinNormRFFRegressor(n_components=1000, memory_limit=0.5).fit(X, Y)
    with pytest.raises(MemoryError, match="solver='dual'"):
        MinNormRFFRegressor(n_components=1000, solver="primal", memory_limit=10).fit(X, Y)


def test_bad_input_raises_value_error():
    X, Y, _ = regression_data(20)
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        MinNormRFFRegressor().fit(bad, Y)
    bad_y = Y.copy()
    bad_y[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MinNormRFFRegressor().fit(X, bad_y)
    with pytest.raises(ValueError, match="inconsistent"):
        MinNormRFFRegressor().fit(X, Y[:10])
    with pytest.raises(ValueError):
        MinNormRFFRegressor(features="tanh").fit(X, Y)
    with pytest.raises(ValueError):
        MinNormRFFRegressor(cutoff=1.5).fit(X, Y)
    model = MinNormRFFRegressor(n_components=30).fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(2, 40),
    log_condition=st.floats(0, 18),
    cutoff=st.sampled_from([1e-7, 1e-4, 0.0]),
)
def test_cholesky_fast_path_agrees_with_the_eigendecomposition(seed, size, log_condition, cutoff):
    from skinterp.random_features._min_norm import min_norm_solve

    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(size, size)))
    gram = (basis * np.logspace(0, -log_condition, size)) @ basis.T
    gram = (gram + gram.T) / 2
    rhs = rng.normal(size=(size, 2))
    fast, fast_rank = min_norm_solve(gram, rhs, cutoff)
    # Reference: numpy's eigendecomposition, the same cut-off on the eigenvalues.
    values, vectors = np.linalg.eigh(gram)
    keep = values > max(cutoff**2 * values[-1], 0.0)
    reference = vectors[:, keep] @ ((vectors[:, keep].T @ rhs) / values[keep][:, None])
    rank = int(keep.sum())
    # The cut-off applies to singular values of the features: sqrt of the Gram's eigenvalues.
    cutoff_decades = -2 * np.log10(cutoff) if cutoff > 0 else np.inf
    if log_condition < min(10, cutoff_decades - 1):  # well conditioned, cut-off idle
        assert fast_rank == rank == size
        assert relative_error(fast, reference) < 1e-6
    elif cutoff > 0 and log_condition > -2 * np.log10(cutoff) + 1:  # the cut-off must act
        assert fast_rank == rank < size
        # Two eigensolvers (LAPACK's syevr and syevd) agree to rounding over the condition
        # number of the eigenvalues kept.
        kept_condition = values[-1] / values[keep].min()
        assert relative_error(fast, reference) < 1e-6 + 10 * np.finfo(float).eps * kept_condition


def test_blank_input_columns_are_left_out_without_changing_the_result():
    X, Y, X_test = regression_data(40, n_features=8)
    X[:, [1, 4, 6]] = 0.0  # blank "pixels" in every training row
    X_test[:5, [1, 4, 6]] = 0.0
    model = MinNormRFFRegressor(n_components=400, bandwidth=1.0, random_state=0).fit(X, Y)
    Phi = features_of(model, X)
    peer = LinearRegression(fit_intercept=False, tol=0).fit(Phi, Y)
    assert relative_error(model.coef_, peer.coef_.T) < 1e-6
    assert relative_error(model.predict(X_test), peer.predict(features_of(model, X_test))) < 1e-6


def _feature_blocks(X, n_components, bandwidth, seed, width=64):
    from skinterp.random_features._features import draw_weights, unscaled_features

    weights, offsets = draw_weights("fourier", X.shape[1], n_components, bandwidth, seed)
    return [
        unscaled_features(X, weights, offsets, "fourier", start, start + width)
        for start in range(0, n_components, width)
    ]


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_samples=st.integers(10, 80),
    ratio=st.integers(2, 30),
    bandwidth=st.floats(0.3, 3.0),
)
def test_float32_gram_with_refinement_gives_the_float64_solution(
    seed, n_samples, ratio, bandwidth
):
    from skinterp.random_features._min_norm import REFINEMENT_TOLERANCE, refined_dual_solve

    X, Y, _ = regression_data(n_samples, seed=seed)
    blocks = _feature_blocks(X, ratio * n_samples, bandwidth, seed)
    C = np.hstack(blocks)
    condition = np.linalg.cond(C) ** 2
    solution = refined_dual_solve(blocks, Y, cutoff=1e-7)
    if condition < 1e4:  # far inside the range where refinement must work
        assert solution is not None
    if solution is not None:
        coef, fitted, residual = solution
        np.testing.assert_allclose(fitted, C @ coef, rtol=1e-9, atol=1e-9 * np.abs(Y).max())
        reference = np.linalg.lstsq(C, Y, rcond=None)[0]  # the minimum-norm solution
        assert residual <= 1e3 * REFINEMENT_TOLERANCE
        assert relative_error(coef, reference) < 1e-9 * max(1.0, condition / 1e4)
        assert relative_error(C @ coef, Y) < 1e-9


def test_refinement_gives_way_to_float64_on_a_singular_gram_matrix():
    from skinterp.random_features._min_norm import refined_dual_solve

    X, Y, X_test = regression_data(40)
    X[20:] = X[:20]  # duplicated points with different targets: no interpolant exists
    assert refined_dual_solve(_feature_blocks(X, 800, 1.0, 0), Y, cutoff=1e-7) is None
    model = MinNormRFFRegressor(n_components=800, bandwidth=1.0, random_state=0, cutoff=1e-7)
    model.fit(X, Y)
    # The float64 path with the cut-off: lstsq dropping singular values below 1e-7 of the top.
    coef = np.linalg.lstsq(features_of(model, X), Y, rcond=model.cutoff)[0]
    assert not model.interpolates_ and model.rank_ == 20
    expected = features_of(model, X_test) @ coef
    assert relative_error(model.predict(X_test), expected) < 1e-6
