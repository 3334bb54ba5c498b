"""The simulated design cases (tests/data/designs) and their R DESeq2 1.38.3 answers.

Each case is fitted once per test session (``functools.cache``); the LRT variants test
the same fit with the reduced design added (:func:`fibroskin.deseq2.lrt.r_nbinom_lrt`
after :func:`fibroskin.rnaseq.fit_deseq`, exactly what ``fit_deseq(test="lrt")`` runs).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fibroskin import rnaseq
from fibroskin.deseq2.contrasts import ContrastSpec
from fibroskin.deseq2.lrt import r_nbinom_lrt

from conftest import DATA

DESIGNS = DATA / "designs"
LEVELS = ContrastSpec.levels


@dataclass(frozen=True)
class Case:
    """One simulated table, its design and the contrasts R was asked for."""

    design: str
    levels: dict
    contrasts: dict = field(default_factory=dict)
    reduced: str | None = None
    lrt_contrasts: dict = field(default_factory=dict)


NESTED_AVERAGE = {"grouppatient": 1.0, **{f"grouppatient.ind{i}": 0.2 for i in range(2, 6)}}

CASES = {
    "batch_condition": Case("~batch + condition", {"condition": "healthy"},
                            {"lesional_vs_healthy": LEVELS("condition", "lesional", "healthy")}),
    "three_levels": Case(
        "~batch + condition", {"condition": ["healthy", "non-lesional", "lesional"]},
        {
            "lesional_vs_healthy": LEVELS("condition", "lesional", "healthy"),
            "non-lesional_vs_healthy": LEVELS("condition", "non-lesional", "healthy"),
            "lesional_vs_non-lesional": LEVELS("condition", "lesional", "non-lesional"),
            "healthy_vs_lesional": LEVELS("condition", "healthy", "lesional"),
            "list": ContrastSpec.of_list(["condition_lesional_vs_healthy"], ["condition_non.lesional_vs_healthy"]),
            "numeric": ContrastSpec.of_weights([0, 0, -1, 1]),
        },
        "~batch",
        {"lrt_lesional_vs_healthy": LEVELS("condition", "lesional", "healthy"),
         "lrt_lesional_vs_non-lesional": LEVELS("condition", "lesional", "non-lesional")},
    ),
    "tcga_like": Case("~patient + tissue", {"tissue": "normal"}, {"tumour_vs_normal": LEVELS("tissue", "tumour", "normal")},
                      "~patient", {"lrt_tumour_vs_normal": LEVELS("tissue", "tumour", "normal")}),
    "prostate_like": Case("~patient + prepost", {"prepost": "pre"}, {"post_vs_pre": LEVELS("prepost", "post", "pre")}),
    "continuous": Case("~age + condition", {"condition": "healthy"},
                       {"lesional_vs_healthy": LEVELS("condition", "lesional", "healthy"),
                        "age": ContrastSpec.coefficient("age")}),
    "interaction": Case(
        "~site + condition + site:condition", {"condition": "healthy", "site": "arm"},
        {"interaction": ContrastSpec.coefficient("siteback.conditionlesional"),
         "lesional_on_back": ContrastSpec.of_list(["condition_lesional_vs_healthy", "siteback.conditionlesional"]),
         "lesional_on_arm": LEVELS("condition", "lesional", "healthy")},
    ),
    "nested": Case(
        "~group + group:C(ind) + group:lesion", {"group": "healthy", "lesion": "non-lesional"},
        {"lesional_vs_non-lesional": ContrastSpec.coefficient("grouppatient.lesionlesional"),
         "non-lesional_vs_healthy": ContrastSpec.of_weights(NESTED_AVERAGE),
         "lesional_vs_healthy": ContrastSpec.of_weights({**NESTED_AVERAGE, "grouppatient.lesionlesional": 1.0})},
        "~group + group:C(ind)",
        {"lrt_lesional_vs_non-lesional": ContrastSpec.coefficient("grouppatient.lesionlesional")},
    ),
    "outliers": Case("~condition", {"condition": "healthy"}, {"lesional_vs_healthy": LEVELS("condition", "lesional", "healthy")},
                     "~1", {"lrt_lesional_vs_healthy": LEVELS("condition", "lesional", "healthy")}),
}


def table(case: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The simulated counts (genes x samples) and sample sheet of ``case``."""
    counts = pd.read_csv(DESIGNS / f"{case}_counts.tsv.gz", sep="\t", index_col=0)
    samples = pd.read_csv(DESIGNS / f"{case}_samples.tsv", sep="\t", dtype=str)
    return counts, samples


def r_results(case: str) -> pd.DataFrame:
    """R's results() rows of ``case``: columns contrast, gene, baseMean ... padj."""
    return pd.read_csv(DESIGNS / f"R_DESeq2_1.38.3_{case}.csv.gz", float_precision="round_trip")


def r_stages(case: str) -> pd.DataFrame:
    """R's dispersions, maxCooks and replace flags of ``case``, per fit (wald, lrt) and gene."""
    return pd.read_csv(DESIGNS / f"R_DESeq2_1.38.3_{case}_stages.csv.gz", float_precision="round_trip")


@functools.cache
def wald_fit(case: str):
    """The fast engine's fit of ``case`` (Wald)."""
    counts, samples = table(case)
    spec = CASES[case]
    return rnaseq.fit_deseq(counts, samples, spec.design, reference_levels=spec.levels)


@functools.cache
def lrt_fit(case: str):
    """The same fit with R's LRT against the case's reduced design (``fit_deseq(test="lrt")``)."""
    dds = copy.deepcopy(wald_fit(case))
    spec = CASES[case]
    metadata = dds.obs
    reduced = rnaseq.reduced_model_matrix(spec.reduced, metadata, rnaseq.r_model_matrix(spec.design, metadata))
    r_nbinom_lrt(dds, reduced.matrix, intercept_only=spec.reduced == "~1")
    dds.uns["fibroskin"] = {**dds.uns["fibroskin"], "test": "lrt", "reduced": spec.reduced}
    return dds


def agreement(ours: pd.DataFrame, theirs: pd.DataFrame, alpha: float = 0.05) -> dict[str, float]:
    """The issue's measures: call Jaccard at ``alpha``, NA pattern, max |dLFC|, p-value relative errors.

    Parameters
    ----------
    ours, theirs
        results tables indexed by gene (same genes).
    """
    theirs = theirs.loc[ours.index]
    called, r_called = ours["padj"] < alpha, theirs["padj"] < alpha
    union = int((called | r_called).sum())
    na_pattern = ((ours["pvalue"].isna() == theirs["pvalue"].isna())
                  & (ours["padj"].isna() == theirs["padj"].isna())
                  & (ours["log2FoldChange"].isna() == theirs["log2FoldChange"].isna()))
    both = ours["pvalue"].notna() & theirs["pvalue"].notna()
    relative = ((ours["pvalue"] - theirs["pvalue"]).abs() / theirs["pvalue"])[both]
    relative = relative.where(theirs["pvalue"][both] > 0, 0.0)
    return {
        "jaccard": (called & r_called).sum() / union if union else 1.0,
        "calls": int(r_called.sum()),
        "na_pattern": float(na_pattern.mean()),
        "max_dlfc": float((ours["log2FoldChange"] - theirs["log2FoldChange"]).abs().max()),
        "p_q999": float(np.quantile(relative, 0.999)) if len(relative) else 0.0,
        "p_max": float(relative.max()) if len(relative) else 0.0,
    }
