"""airway ``~celltype + dex`` (four cell lines, each untreated and treated) against R DESeq2 1.38.3.

A paired design's gene-wise means come from IRLS (R: ``fitNbinomGLMs`` -> ``fitBeta``), not
from the linear model of one-factor designs. Size factors, starting dispersions, trend
and prior variance are R's; the line search takes R's steps for every gene given R's
means (checked with R's ``fitNbinomGLMs`` means: every gene's iteration count, estimates
within 4e-11). The means themselves are pydeseq2-style IRLS, not yet R's ``fitBeta``:
they differ from R's by up to 73% on a few genes, which moves 10 gene-wise dispersions
(7 by more than 0.1%, up to 20%) and, through the MAP step, LFCs by up to 5e-4. This
test pins what holds today; matching R's gene-wise means is the next step.
"""

from __future__ import annotations

import numpy as np
import pytest

from fibroskin import rnaseq

from fits import airway_fit
from r_reference import r_stages


@pytest.fixture(scope="module")
def airway_vs_r():
    dds = airway_fit()
    ours = rnaseq.test_contrast(dds, "dex", "control", "treated", alpha=0.1, shrink=False).set_index("gene")
    return dds, ours, r_stages("airway").loc[ours.index]


def test_airway_calls_and_na_pattern_are_rs(airway_vs_r):
    _, ours, r = airway_vs_r
    called, r_called = ours["padj"] < 0.05, r["padj"] < 0.05
    assert (called & r_called).sum() == (called | r_called).sum()  # Jaccard 1.0 (4,077 genes)
    assert (ours["padj"].isna() == r["padj"].isna()).all()


def test_airway_dispersions_and_lfc_close_to_rs(airway_vs_r):
    dds, ours, r = airway_vs_r
    genewise = dds.var.loc[ours.index, "genewise_dispersions"].to_numpy(float)
    relative = np.abs(genewise / r["dispGeneEst"].to_numpy() - 1)
    assert (relative > 1e-8).sum() <= 10  # measured 10, from the IRLS means (module docstring)
    assert np.quantile(relative, 0.999) <= 1e-10  # measured 1.8e-11
    expressed = r["baseMean"] >= 10
    lfc = (ours["log2FoldChange"] - r["log2FoldChange"]).abs()
    assert lfc[expressed].max() <= 1e-3  # measured 4.7e-4
    assert lfc.quantile(0.99) <= 1e-4  # measured 1.4e-5
