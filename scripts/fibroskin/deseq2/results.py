"""Results: pydeseq2's ``DeseqStats`` with R DESeq2's ``results()`` p-value adjustment.

:class:`RFaithfulDeseqStats` is ``DeseqStats`` whose independent filtering is R's
(:mod:`fibroskin.deseq2.independent_filtering`); :func:`r_faithful_padj` gives R's padj
for a ``DeseqStats`` that has run its Wald test::

    stats = RFaithfulDeseqStats(dds, contrast=[...], alpha=0.1, inference=dds.inference)
    stats.summary()                       # results_df holds R's padj
"""

from __future__ import annotations

import pandas as pd
from pydeseq2.ds import DeseqStats

from fibroskin.deseq2.independent_filtering import independent_filtering


def r_faithful_padj(stats: DeseqStats) -> pd.Series:
    """R DESeq2 padj for a ``DeseqStats`` whose Wald test has been run.

    Uses ``stats.p_values`` (after pydeseq2's Cook's filtering if ``summary()`` ran
    with ``cooks_filter=True``), ``stats.base_mean`` and ``stats.alpha``.

    Parameters
    ----------
    stats : DeseqStats
        Statistics object after ``summary()`` (or ``run_wald_test()``).

    Returns
    -------
    pd.Series
        padj indexed by gene.
    """
    if not hasattr(stats, "p_values"):
        raise ValueError("run stats.summary() (or run_wald_test()) first")
    return independent_filtering(stats.base_mean, stats.p_values, stats.alpha)


class RFaithfulDeseqStats(DeseqStats):
    """``DeseqStats`` whose independent filtering is R DESeq2's.

    See :mod:`fibroskin.deseq2.independent_filtering`.
    """

    def _independent_filtering(self) -> None:
        if not hasattr(self, "p_values"):
            self.run_wald_test()
        self.padj = independent_filtering(self.base_mean, self.p_values, self.alpha)
