"""The projected saddle-point matrix built on the lower triangle (_direct._assemble) against
the formula M = Pi (K + Lambda) Pi + c Q1 Q1^T written with dense numpy."""

import numpy as np
import pytest

from skinterp.kernel_machine._direct import _assemble
from skinterp.kernel_machine._polynomial_tail import PolynomialBasis, orthonormal_tail
from skinterp.kernels import KernelSpec, kernel_matrix


@pytest.mark.parametrize(
    "kernel, degree", [("thin_plate_spline", 1), ("cubic", 2), ("laplacian", -1)]
)
@pytest.mark.parametrize("n_features", [2, 3, 11])
def test_lower_assembly_matches_the_dense_formula(kernel, degree, n_features):
    rng = np.random.RandomState(n_features)
    X = rng.uniform(-1, 1, size=(257, n_features))
    ridge = rng.uniform(0, 0.1, size=257)
    spec = KernelSpec(kernel, 0.7)
    basis = PolynomialBasis(X, degree)
    Q1 = orthonormal_tail(basis.matrix(X))[0] if basis.size else None
    K = kernel_matrix(X, kernel=spec) + np.diag(ridge)
    if Q1 is None:
        expected = K
    else:
        Pi = np.eye(len(X)) - Q1 @ Q1.T
        G = Q1.T @ K @ Q1
        c = abs((np.trace(K) - np.trace(G)) / (len(X) - Q1.shape[1]))
        expected = Pi @ K @ Pi + c * Q1 @ Q1.T
    scale = np.abs(K).max()
    for full in (False, True):
        M = _assemble(X, spec, ridge, Q1, n_jobs=2, verbose=0, full=full)
        rows, cols = np.tril_indices(len(X))
        np.testing.assert_allclose(M[rows, cols], expected[rows, cols], atol=1e-13 * scale, rtol=0)
        if full:
            np.testing.assert_array_equal(M, M.T)
