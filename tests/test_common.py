"""scikit-learn's estimator checks on every public estimator of ``skinterp.__all__``.

A new estimator is checked the day it is exported. Expected failures are listed per estimator in
``EXPECTED_FAILED_CHECKS`` with a written reason; an empty list means every check passes.
"""

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

import skinterp

PUBLIC_ESTIMATORS = [
    getattr(skinterp, name)
    for name in skinterp.__all__
    if inspect.isclass(getattr(skinterp, name))
    and issubclass(getattr(skinterp, name), BaseEstimator)
]

# {estimator class name: {check name: reason}}
EXPECTED_FAILED_CHECKS: dict = {}

# Settings for scikit-learn's checks, for estimators whose defaults are sized for real data
# (none so far: every estimator is checked with its defaults).
CHECK_PARAMS: dict = {}

# Settings for the threaded grid-search test, which also asserts a score.
GRID_SEARCH_PARAMS: dict = {
    # Its 60 noisy points in 4-D: the minimum-norm *interpolant* of the one-hot labels (N >= n,
    # like the exact Gaussian kernel interpolant) scores below 0.5 there, the least-squares fit on
    # 20 features about 0.8. The regressor keeps its defaults (dual solver).
    "MinNormRFFClassifier": {"n_components": 20},
}


def _instances(params=CHECK_PARAMS):
    for cls in PUBLIC_ESTIMATORS:
        yield cls(**params.get(cls.__name__, {}))


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_every_public_name_is_exported():
    for name in skinterp.__all__:
        assert hasattr(skinterp, name), name
    assert len(PUBLIC_ESTIMATORS) >= 2


@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator", list(_instances(GRID_SEARCH_PARAMS)), ids=lambda est: type(est).__name__
)
def test_estimator_works_under_threaded_grid_search(estimator):
    """numba kernels entered from two joblib threads at once must neither abort nor deadlock."""
    from joblib import parallel_backend
    from sklearn.base import is_classifier
    from sklearn.datasets import make_classification, make_regression

    if is_classifier(estimator):
        X, y = make_classification(n_samples=60, n_features=4, random_state=0)
        scoring = "accuracy"
    else:
        X, y = make_regression(n_samples=60, n_features=4, random_state=0)
        scoring = "r2"
    param = next(iter(estimator.get_params()))
    values = [estimator.get_params()[param]] * 2
    if not hasattr(estimator, "predict"):  # a transformer: score it in front of a ridge
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline

        param = f"{type(estimator).__name__.lower()}__{param}"
        estimator = make_pipeline(estimator, Ridge(alpha=1e-3))
    with parallel_backend("threading", n_jobs=2):
        search = GridSearchCV(estimator, {param: values}, cv=3, n_jobs=2, scoring=scoring)
        search.fit(X, y)
    assert search.best_score_ > (0.5 if is_classifier(estimator) else 0.0)
