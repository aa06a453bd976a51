"""The core protocol (#11 §3): every family's ``fit`` returns a frozen model whose fields become
the attributes of the same names, and the family's ``predict`` core reads the model alone."""

import dataclasses

import numpy as np
import pytest
from sklearn.base import clone

import skinterp
from skinterp._base import fitted_model
from skinterp.kernel_machine._core import KernelMachineModel, predict_kernel_machine
from skinterp.neighbors._core import SingularKernelNNModel, predict_singular_kernel_nn
from skinterp.random_features._min_norm import MinNormRFFModel, predict_min_norm
from skinterp.simplicial._core import SimplicialModel, predict_simplicial

RNG = np.random.RandomState(0)
X = RNG.uniform(size=(60, 2))
Y = np.sin(4 * X[:, 0]) + X[:, 1]
Q = RNG.uniform(size=(25, 2))

FAMILIES = [
    (skinterp.SingularKernelNN(n_neighbors=5), SingularKernelNNModel),
    (skinterp.SimplicialInterpolator(), SimplicialModel),
    (skinterp.MinNormRFFRegressor(n_components=200, cutoff=1e-7, random_state=0), MinNormRFFModel),
    (skinterp.KernelInterpolator(), KernelMachineModel),
]

KERNEL_MACHINES = {
    "direct": skinterp.KernelInterpolator(kernel="thin_plate_spline", solver="direct"),
    "cg": skinterp.KernelInterpolator(kernel="thin_plate_spline", solver="cg"),
    "eigenpro": skinterp.KernelInterpolator(solver="eigenpro", tol=1e-3, random_state=0),
    "local": skinterp.KernelInterpolator(kernel="thin_plate_spline", neighbors=20),
}


def _family_id(case):
    return type(case[0]).__name__


@pytest.mark.parametrize("estimator, model_class", FAMILIES, ids=map(_family_id, FAMILIES))
def test_every_model_field_is_the_attribute_of_the_same_name(estimator, model_class):
    fitted = clone(estimator).fit(X, Y)
    assert dataclasses.is_dataclass(model_class)
    model = fitted_model(fitted, model_class)  # raises if an attribute is missing
    for field in dataclasses.fields(model_class):
        assert getattr(model, field.name) is getattr(fitted, field.name + "_")
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(model, dataclasses.fields(model_class)[0].name, None)


def test_neighbors_predict_core_reads_the_model_alone():
    fitted = skinterp.SingularKernelNN(n_neighbors=5).fit(X, Y)
    model = fitted_model(fitted, SingularKernelNNModel)
    np.testing.assert_array_equal(predict_singular_kernel_nn(model, Q)[:, 0], fitted.predict(Q))


def test_random_features_predict_core_reads_the_model_alone():
    fitted = skinterp.MinNormRFFRegressor(n_components=200, cutoff=1e-7, random_state=0)
    fitted = fitted.fit(X, Y)
    model = fitted_model(fitted, MinNormRFFModel)
    np.testing.assert_array_equal(predict_min_norm(model, Q, "fourier")[:, 0], fitted.predict(Q))


@pytest.mark.parametrize("outside", ["project", "nearest", "nan"])
def test_simplicial_predict_core_reads_the_model_alone(outside):
    fitted = skinterp.SimplicialInterpolator(outside=outside).fit(X, Y)
    model = fitted_model(fitted, SimplicialModel)
    far = np.vstack([Q, [[3.0, 3.0]]])  # one query outside the hull
    values, is_outside = predict_simplicial(model, far, outside)
    np.testing.assert_array_equal(values[:, 0], fitted.predict(far))
    np.testing.assert_array_equal(is_outside, fitted.is_outside(far))
    assert is_outside[-1]


@pytest.mark.parametrize("solver", list(KERNEL_MACHINES))
def test_kernel_machine_predict_core_reads_the_model_alone(solver):
    fitted = clone(KERNEL_MACHINES[solver]).fit(X, Y)
    assert fitted.solver_ == solver
    model = fitted_model(fitted, KernelMachineModel)
    np.testing.assert_array_equal(predict_kernel_machine(model, Q)[:, 0], fitted.predict(Q))
    # Changing the parameters after the fit does not change what the model predicts.
    changed = fitted.set_params(bandwidth=123.0, kernel="gaussian")
    np.testing.assert_array_equal(predict_kernel_machine(model, Q)[:, 0], changed.predict(Q))


def test_kernel_machine_solvers_set_the_same_attributes():
    """One model for every solver: a grid over solver compares like with like."""
    names = {}
    for solver, estimator in KERNEL_MACHINES.items():
        fitted = clone(estimator).fit(X, Y)
        names[solver] = {name for name in vars(fitted) if name.endswith("_")}
    expected = {field.name + "_" for field in dataclasses.fields(KernelMachineModel)}
    for solver, found in names.items():
        assert expected <= found, (solver, expected - found)
        assert found == names["direct"], (solver, found ^ names["direct"])


def test_kernel_machine_classifier_keeps_two_dimensional_coefficients():
    labels = (Y > np.median(Y)).astype(int)
    classifier = skinterp.KernelInterpolationClassifier(kernel="thin_plate_spline").fit(X, labels)
    regressor = skinterp.KernelInterpolator(kernel="thin_plate_spline").fit(X, Y)
    assert classifier.dual_coef_.shape == (60, 2)
    assert classifier.polynomial_coef_.shape == (3, 2)
    assert regressor.dual_coef_.shape == (60,)
    assert regressor.polynomial_coef_.shape == (3,)


@pytest.mark.parametrize(
    "estimator",
    [
        skinterp.SingularKernelNN(n_neighbors=5),
        skinterp.SimplicialInterpolator(),
        skinterp.KernelInterpolator(),
        skinterp.KernelInterpolator(kernel="thin_plate_spline", neighbors=20),
    ],
    ids=lambda e: type(e).__name__,
)
def test_one_name_for_the_rows_and_the_distinct_points(estimator):
    X_dup = np.vstack([X, X[:7]])  # seven exact duplicates, same targets
    fitted = clone(estimator).fit(X_dup, np.concatenate([Y, Y[:7]]))
    assert fitted.n_samples_fit_ == 67
    assert fitted.n_points_fit_ == 60


def test_local_training_residual_uses_fewer_rows_for_large_neighbourhoods():
    from skinterp.kernel_machine._core import LOCAL_RESIDUAL_ROWS, local_residual_rows

    sizes = [local_residual_rows(k) for k in (1, 50, 60, 100, 600, 10_000)]
    assert sizes[0] == sizes[1] == LOCAL_RESIDUAL_ROWS
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 100
