"""Array helpers shared by the stages: gene chunks and batched ``(genes, p, p)`` linear algebra.

Every stage fits all genes of a chunk at once. A gene's weighted Gram matrix
``X^T diag(w_g) X`` is computed for every gene with one matrix product (``W @ outer_columns(X)``),
and the stacked ``(genes, p, p)`` systems are inverted or solved together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Genes per chunk of a fixed chunking: memory is bounded by a few ``chunk_size x n_samples`` arrays.
DEFAULT_CHUNK_SIZE = 4096
#: Cells (genes x samples) per chunk of the chunking that follows the number of samples
#: (:func:`chunk_genes`): 2 MB per float array, so the dozens of temporaries of a
#: dispersion search stay in the CPU's cache and memory does not grow with the samples.
CHUNK_CELLS = 2**18
#: ... and at most this many genes per chunk (few samples: Python's cost per step dominates).
MAX_CHUNK_GENES = 16384


def gene_chunks(num_genes: int, chunk_size: int) -> Iterator[slice]:
    """Yield gene slices of at most ``chunk_size`` genes, in order."""
    for start in range(0, num_genes, chunk_size):
        yield slice(start, min(start + chunk_size, num_genes))


def each_chunk(fit_chunk: Callable[[slice], None], chunks: list[slice], threads: int = 1) -> None:
    """``fit_chunk(chunk)`` for every chunk: in order, or by ``threads`` threads.

    ``fit_chunk`` writes its genes' results into arrays of the caller, each chunk into its
    own genes only, so the order in which chunks finish changes nothing (numpy releases
    the GIL in the array arithmetic that dominates a chunk).
    """
    threads = min(int(threads), len(chunks))
    if threads <= 1:
        for chunk in chunks:
            fit_chunk(chunk)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(fit_chunk, chunk) for chunk in chunks]:
            future.result()


def chunk_genes(num_samples: int) -> int:
    """Genes per chunk for ``num_samples`` samples: :data:`CHUNK_CELLS` cells, 1 to :data:`MAX_CHUNK_GENES` genes.

    Each gene's numbers do not depend on the chunk it is fitted in (no BLAS in the
    dispersion searches; IRLS solves each gene's system alone), so the chunking is a
    matter of speed and memory only.
    """
    return max(1, min(MAX_CHUNK_GENES, CHUNK_CELLS // max(1, num_samples)))


def outer_columns(design_matrix: np.ndarray) -> np.ndarray:
    """Return ``(n, p*p)`` products ``x_i x_j`` so ``W @ result`` gives ``X^T W X``.

    Parameters
    ----------
    design_matrix : ndarray
        ``(n, p)`` design matrix.

    Returns
    -------
    ndarray
        ``(n, p*p)`` array; row ``s`` is ``vec(x_s x_s^T)``.
    """
    n, p = design_matrix.shape
    return (design_matrix[:, :, None] * design_matrix[:, None, :]).reshape(n, p * p)


def weighted_gram(weights: np.ndarray, design_matrix: np.ndarray) -> np.ndarray:
    """Batched ``X^T diag(w_g) X`` for every gene ``g``.

    Parameters
    ----------
    weights : ndarray
        ``(genes, n)`` per-sample weights.
    design_matrix : ndarray
        ``(n, p)`` design matrix.

    Returns
    -------
    ndarray
        ``(genes, p, p)`` weighted Gram matrices.
    """
    p = design_matrix.shape[1]
    return (weights @ outer_columns(design_matrix)).reshape(-1, p, p)


def hat_diagonals(
    weights: np.ndarray, design_matrix: np.ndarray, inv_gram: np.ndarray
) -> np.ndarray:
    """Diagonal of ``W^1/2 X (X^T W X + ridge)^-1 X^T W^1/2`` for every gene.

    Parameters
    ----------
    weights : ndarray
        ``(genes, n)`` IRLS weights.
    design_matrix : ndarray
        ``(n, p)`` design matrix.
    inv_gram : ndarray
        ``(genes, p, p)`` inverse of the (ridged) weighted Gram matrix.

    Returns
    -------
    ndarray
        ``(genes, n)`` leverages.
    """
    x_inv = np.einsum("si,gij->gsj", design_matrix, inv_gram)
    return np.einsum("gsj,sj->gs", x_inv, design_matrix) * weights


def batched_inv(matrices: np.ndarray) -> np.ndarray:
    """Invert stacked square matrices; NaN for non-finite or singular ones.

    Parameters
    ----------
    matrices : ndarray
        ``(genes, p, p)``.

    Returns
    -------
    ndarray
        ``(genes, p, p)`` inverses.
    """
    out = np.full_like(matrices, np.nan)
    finite = np.isfinite(matrices).all(axis=(1, 2))
    if not finite.any():
        return out
    try:
        out[finite] = np.linalg.inv(matrices[finite])
    except np.linalg.LinAlgError:
        # one singular matrix poisons the whole LAPACK batch; pinv handles it alone
        out[finite] = np.linalg.pinv(matrices[finite])
    return out
