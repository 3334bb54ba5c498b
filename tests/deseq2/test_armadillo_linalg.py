"""Armadillo's det / inv / trace(A * B) with reference LAPACK (fibroskin.deseq2.armadillo_linalg).

R-equality of these is what makes airway's five-coefficient dispersions R's bit for bit
(tests/deseq2/test_paired_design.py); here: they are the right numbers, on every path
(closed forms, LU with pivoting, Cholesky, diagonal, out-of-range determinants).
"""

from __future__ import annotations

import numpy as np
import pytest

from fibroskin.deseq2 import armadillo_linalg


def gram_matrices(p: int, genes: int = 40, scale: float = 1.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (12, p)).astype(float)
    x[:, 0] = 1.0
    x[np.arange(p), np.arange(p)] = 1.0  # full rank
    w = rng.lognormal(0, 1, (genes, 12)) * scale
    return np.einsum("gs,si,sj->gij", w, x, x)


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("scale", [1.0, 1e5])  # 1e5: determinants beyond 1/eps take the LU path
def test_det_inv_trace_are_the_numbers(p, scale):
    gram = gram_matrices(p, scale=scale)
    np.testing.assert_allclose(armadillo_linalg.det(gram), np.linalg.det(gram), rtol=1e-11)
    inverse = armadillo_linalg.inv(gram)
    np.testing.assert_allclose(inverse, np.linalg.inv(gram), rtol=1e-9, atol=1e-12 / scale)
    other = gram_matrices(p, seed=2)
    np.testing.assert_allclose(armadillo_linalg.trace_of_product(inverse, other),
                               np.trace(np.linalg.inv(gram) @ other, axis1=1, axis2=2), rtol=1e-9)


def test_lu_pivots_and_factors_reconstruct_the_matrix():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(25, 5, 5))
    lu, pivots = armadillo_linalg.dgetrf(a)
    for gene in range(len(a)):
        lower = np.tril(lu[gene], -1) + np.eye(5)
        upper = np.triu(lu[gene])
        permuted = a[gene].copy()
        for row, other in enumerate(pivots[gene]):
            permuted[[row, other]] = permuted[[other, row]]
        np.testing.assert_allclose(lower @ upper, permuted, atol=1e-12)
        # partial pivoting: every multiplier at most 1 in size
        assert np.abs(np.tril(lu[gene], -1)).max() <= 1.0
    np.testing.assert_allclose(armadillo_linalg.det(a), np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(armadillo_linalg.inv(a), np.linalg.inv(a), rtol=1e-8, atol=1e-10)


def test_diagonal_matrices_take_the_diagonal():
    diagonal = np.zeros((3, 4, 4))
    diagonal[:, np.arange(4), np.arange(4)] = [[1e6, 2e6, 3e6, 4e6], [1, 2, 3, 4], [5, 1e-3, 2, 7]]
    np.testing.assert_array_equal(armadillo_linalg.det(diagonal), np.prod(diagonal.diagonal(axis1=1, axis2=2), axis=1))
    np.testing.assert_array_equal(armadillo_linalg.inv(diagonal).diagonal(axis1=1, axis2=2),
                                  1.0 / diagonal.diagonal(axis1=1, axis2=2))
