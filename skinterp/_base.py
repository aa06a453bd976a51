"""What every estimator of the package shares.

* :class:`InterpolatingRegressorMixin`: ``fit``/``predict`` of a regressor around the same
  multi-output core, 1-D targets in and out.
* :class:`SquareLossClassifierMixin`: the classifier twin of a multi-output regressor core. It
  fits the core to one-hot targets with the square loss (as Belkin, 2021, Section 3.1 argues) and
  predicts the class of largest output.
* :func:`validate_features`: input canonicalisation (float64 or float32, C order, finite).
* Memory budget helpers: the budget in bytes, rows per chunk, and a refusal *before* allocating.
* :func:`report_interpolation`: the interpolation contract, measured. Every regressor and
  classifier sets ``train_residual_`` (the relative training residual) and ``interpolates_``
  (whether it is within :data:`RESIDUAL_RTOL` of the working dtype).

The dtype policy, one for the whole package: float32 inputs give float32 outputs (``predict``,
``predict_proba``, ``decision_function``, ``transform``), anything else float64. Kernel machines
and random features compute in the dtype of ``X`` (or their ``dtype`` parameter); the geometric
methods (neighbours, simplicial) compute in float64, where their exactness lives, and cast their
outputs.
"""

import dataclasses
import os
import sys
import warnings
from contextlib import contextmanager

import joblib
import numpy as np
import sklearn
from sklearn import get_config
from sklearn.base import ClassifierMixin, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from skinterp.exceptions import InterpolationWarning  # noqa: F401  (re-exported)

_LIBRARY_DIRECTORIES = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (sys.modules["skinterp"], sklearn, joblib)
)


def warn_user(message, category):
    """``warnings.warn`` attributed to the user's line: the first frame outside skinterp and
    scikit-learn (whatever the depth of the call, e.g. ``fit`` or ``partial_fit`` or inside
    ``GridSearchCV``), so that the default filter shows each warning once per calling line."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRECTORIES):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


FLOAT_DTYPES = (np.float64, np.float32)

# The interpolation contract's tolerance per working dtype: a fit whose relative training
# residual (max |f(x_i) - y_i| / max |y_i|) is at most this interpolates (``interpolates_``).
RESIDUAL_RTOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-2}


def relative_residual(fitted_values, Y):
    """``max |fitted_values - Y| / max |Y|`` (0 for empty targets, ``Y`` all zero: absolute)."""
    fitted_values = np.asarray(fitted_values)
    Y = np.asarray(Y)
    if Y.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(Y))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(fitted_values.reshape(Y.shape) - Y))) / scale


def report_interpolation(estimator, residual, dtype):
    """Set ``train_residual_`` and ``interpolates_`` on ``estimator``; return ``interpolates_``.

    ``residual`` is the relative training residual (:func:`relative_residual`), ``dtype`` the
    working dtype whose :data:`RESIDUAL_RTOL` decides. Merged exact duplicates with different
    targets count: their averaged target is a residual of the contract (documented per class).
    """
    estimator.train_residual_ = float(residual)
    estimator.interpolates_ = bool(residual <= RESIDUAL_RTOL[np.dtype(dtype)])
    return estimator.interpolates_


@contextmanager
def restored_on_error(estimator):
    """Leave ``estimator`` exactly as it was when the block raises (Ctrl-C included).

    The interrupt contract of every long fit: an interrupted (or failed) fit leaves the
    estimator unfitted, or with its previous fit.
    """
    state = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(state)
        raise


def output_dtype(X):
    """The dtype of outputs for inputs ``X`` under the package's policy (see above)."""
    return np.float32 if np.asarray(X).dtype == np.float32 else np.float64


def validate_features(estimator, X, y="no_validation", *, reset, **check_params):
    """Validate ``X`` (and ``y``) the package's way: float64/float32, C-contiguous, finite.

    A thin wrapper of :func:`sklearn.utils.validation.validate_data` so that every estimator
    canonicalises the same way and numba compiles few specialisations.
    """
    params = dict(dtype=FLOAT_DTYPES, order="C", ensure_all_finite=True)
    params.update(check_params)
    return validate_data(estimator, X, y, reset=reset, **params)


def check_finite_targets(y):
    """``ValueError`` unless every target is a finite number.

    scikit-learn converts an object ``y`` holding ``None`` to float *after* its finiteness check,
    so ``None`` would become a silent NaN target; every regressor calls this at fit.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf" or not np.all(np.isfinite(y)):
        bad = ~np.isfinite(np.asarray(y, dtype=np.float64))
        raise ValueError(
            f"y must hold finite numbers; {int(bad.sum())} of {bad.size} targets are NaN, "
            "infinite or None (missing). Drop or impute those samples before fit."
        )
    return y


def check_class_labels(y):
    """``ValueError`` for missing labels (``None`` or NaN) in ``y``, before they are sorted."""
    y = np.asarray(y)
    if y.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in y.ravel()])
    elif y.dtype.kind == "f":
        missing = np.isnan(y)
    else:
        return y
    if missing.any():
        raise ValueError(
            f"y holds {int(missing.sum())} missing class labels (None or NaN) of {y.size}; "
            "every sample needs a label. Drop those samples or give them a class."
        )
    return y


def as_2d_targets(y):
    """Return ``(Y, single_output)``: ``y`` as a 2-D array and whether it was 1-D."""
    y = np.asarray(y)
    if y.ndim == 1:
        return y.reshape(-1, 1), True
    return y, False


# --------------------------------------------------------------------------------------------
# Memory budget
# --------------------------------------------------------------------------------------------
def memory_budget_bytes(memory_limit=None):
    """The memory budget in bytes.

    ``memory_limit`` is in MiB; ``None`` takes scikit-learn's ``working_memory`` setting
    (``sklearn.set_config(working_memory=...)``, 1024 MiB by default).
    """
    if memory_limit is None:
        memory_limit = get_config()["working_memory"]
    return int(float(memory_limit) * 2**20)


def rows_per_chunk(bytes_per_row, memory_limit=None, *, max_rows=None, min_rows=1):
    """How many rows of ``bytes_per_row`` each fit in the budget (at least ``min_rows``)."""
    rows = memory_budget_bytes(memory_limit) // max(int(bytes_per_row), 1)
    rows = max(int(rows), min_rows)
    if max_rows is not None:
        rows = min(rows, max(int(max_rows), 1))
    return rows


def check_memory(n_bytes, memory_limit, *, what, advice):
    """Refuse, before allocating, a request of ``n_bytes`` that exceeds the budget.

    Raises ``MemoryError`` whose message says what needed the memory, how much, the budget and
    ``advice`` (the parameter to change).
    """
    budget = memory_budget_bytes(memory_limit)
    if n_bytes > budget:
        raise MemoryError(
            f"{what} needs {n_bytes / 2**20:,.0f} MiB, more than the memory budget of "
            f"{budget / 2**20:,.0f} MiB. {advice}"
        )


def physical_memory_bytes():
    """Total physical memory in bytes (``None`` when the platform does not say)."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_model_memory(n_bytes, *, what, advice):
    """Refuse, before allocating, a *fitted model* array larger than the physical memory.

    A fitted array (random weights, say) is not working memory, so the ``memory_limit``
    budget does not bound it; a request beyond the machine's memory can only fail, and
    numpy's "Unable to allocate" names no parameter.
    """
    total = physical_memory_bytes()
    if total is not None and n_bytes > total:
        raise MemoryError(
            f"{what} needs {n_bytes / 2**30:,.1f} GiB, more than the {total / 2**30:,.1f} GiB "
            f"of physical memory. {advice}"
        )


# --------------------------------------------------------------------------------------------
# The HTML repr's link to the API page
# --------------------------------------------------------------------------------------------
#: Where the built documentation is published; ``SKINTERP_DOC_URL`` overrides it (for instance
#: ``file:///tmp/skinterp-docs/html/`` after the README's docs command).
DOC_URL = "https://skinterp.readthedocs.io/en/latest/"


class DocLinkMixin:
    """The "?" link of an estimator's HTML repr (Jupyter) opens its page of our API reference.

    scikit-learn's repr links estimators of its own module only; ours are documented as
    ``skinterp.NAME`` on the page ``gen_modules/skinterp.NAME.html`` of the built docs.
    """

    _doc_link_module = "skinterp"
    _doc_link_template = "{base}gen_modules/skinterp.{estimator_name}.html"

    def _doc_link_url_param_generator(self):
        import os

        base = os.environ.get("SKINTERP_DOC_URL", DOC_URL)
        return {
            "base": base if base.endswith("/") else base + "/",
            "estimator_name": type(self).__name__,
        }


def set_fitted(estimator, model):
    """Copy every field of a core's frozen ``model`` to the estimator attribute of the same name
    with a trailing underscore (the core protocol: no rename maps)."""
    for field in dataclasses.fields(model):
        setattr(estimator, field.name + "_", getattr(model, field.name))


def fitted_model(estimator, model_class):
    """The ``model_class`` instance that :func:`set_fitted` spread over ``estimator``."""
    return model_class(
        **{
            field.name: getattr(estimator, field.name + "_")
            for field in dataclasses.fields(model_class)
        }
    )


def positive_weight_rows(X, Y, sample_weight, *, drop_zero_rows=True):
    """``(X, Y, weights)`` without the rows of zero weight (``weights`` None if not given).

    The package's one reading of ``sample_weight`` at the validation step: non-negative, and
    weight 0 removes the row (what each method then makes of the positive weights is in its
    class's Notes). Negative, non-finite or all-zero weights raise ``ValueError``. With
    ``drop_zero_rows=False`` the rows are kept, for a core that removes them itself along with
    per-sample parameters of its own (the kernel machine's per-sample ``ridge``).
    """
    if sample_weight is None:
        return X, Y, None
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    positive = weights > 0
    if not positive.any():
        raise ValueError("sample_weight must have at least one positive entry.")
    if positive.all() or not drop_zero_rows:
        return X, Y, weights
    return X[positive], Y[positive], weights[positive]


# --------------------------------------------------------------------------------------------
# The regressor and its classifier twin
# --------------------------------------------------------------------------------------------
class InterpolatingRegressorMixin(DocLinkMixin, MultiOutputMixin, RegressorMixin):
    """Multi-output regressor around a core shared with the classifier twin.

    A subclass provides ``_fit_targets(X, Y, sample_weight)`` (``Y`` of shape ``(n_samples,
    n_outputs)``, ``sample_weight`` positive or None: :func:`positive_weight_rows`) and
    ``_predict_targets(X)`` returning ``(n_queries, n_outputs)``; its core class may set
    ``_fit_validation`` (extra keyword arguments of :func:`validate_features`; the mixins define
    no default, which would shadow the core's since they come first in the MRO). 1-D targets
    give 1-D predictions; ``_single_output`` is set before ``_fit_targets`` runs. A fit that
    fails or is interrupted leaves the estimator as it was (:func:`restored_on_error`). A core
    that sets ``_drop_zero_rows = False`` receives the rows of zero weight too (no default
    here, for the same reason as ``_fit_validation``).
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the interpolant.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; weight 0 removes the row. What positive weights mean for
            this method is in the class's Notes. None weighs every row 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restored_on_error(self):
            extra = getattr(self, "_fit_validation", {})
            X, y = validate_features(
                self, X, y, reset=True, multi_output=True, y_numeric=True, **extra
            )
            X, y, weights = positive_weight_rows(
                X,
                check_finite_targets(y),
                sample_weight,
                drop_zero_rows=getattr(self, "_drop_zero_rows", True),
            )
            targets, self._single_output = as_2d_targets(y)
            self._fit_targets(X, targets, weights)
        return self

    def _predict_outputs(self, X):
        """Validated 2-D predictions of ``X`` (``(n_queries, n_outputs)``)."""
        check_is_fitted(self)
        X = validate_features(self, X, reset=False)
        return self._predict_targets(X)

    def _as_fitted_shape(self, predictions):
        return predictions[:, 0] if self._single_output else predictions

    def predict(self, X):
        """Evaluate the interpolant.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_outputs)
            Predictions; at a training point, its target.
        """
        return self._as_fitted_shape(self._predict_outputs(X))


class SquareLossClassifierMixin(DocLinkMixin, ClassifierMixin):
    """Classifier twin of a multi-output regressor core, trained on one-hot targets.

    A subclass provides ``_fit_targets(X, Y, sample_weight)`` (``Y`` of shape ``(n_samples,
    n_classes)``, of the dtype of ``X``) and ``_predict_targets(X)`` returning ``(n_queries,
    n_classes)`` scores; it may set ``_fit_validation`` (as for
    :class:`InterpolatingRegressorMixin`). The mixin removes the rows of zero weight, binarises
    the labels of the others, stores ``classes_`` and predicts the class of largest score. Ties
    go to the first class in ``classes_`` (numpy's ``argmax``). ``_drop_zero_rows`` as for
    :class:`InterpolatingRegressorMixin` (the classes are those of the rows of positive weight
    either way).
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the interpolating classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; weight 0 removes the row (and its class, if no other row
            has it). What positive weights mean for this method is in the class's Notes. None
            weighs every row 1.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        with restored_on_error(self):
            X, y = validate_features(
                self, X, y, reset=True, **getattr(self, "_fit_validation", {})
            )
            check_class_labels(y)
            check_classification_targets(y)
            drop = getattr(self, "_drop_zero_rows", True)
            X, y, weights = positive_weight_rows(X, y, sample_weight, drop_zero_rows=drop)
            labels = y if weights is None else y[weights > 0]
            classes = np.unique(labels)
            encoded = np.searchsorted(classes, y).clip(0, classes.shape[0] - 1)
            one_hot = np.zeros((X.shape[0], classes.shape[0]), dtype=X.dtype)
            one_hot[np.arange(X.shape[0]), encoded] = 1
            self._fit_targets(X, one_hot, weights)
            self.classes_ = classes
        return self

    def _class_scores(self, X):
        check_is_fitted(self)
        X = validate_features(self, X, reset=False)
        return self._predict_targets(X)

    def _decision_scores(self, X):
        """``decision_function`` of a twin: the interpolated one-hot scores, or for two classes
        the second class's score minus the first's (scikit-learn's binary convention)."""
        scores = self._class_scores(X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def _normalised_class_scores(self, X):
        """``predict_proba`` for cores whose scores are convex weights of one-hot labels.

        Negative scores (rounding) are clipped to 0 and each row is divided by its sum.
        """
        scores = np.clip(self._class_scores(X), 0.0, None)
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predict class labels: the class of largest interpolated one-hot score.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
            Predicted class labels.
        """
        scores = self._class_scores(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
