"""Three-group qPCR designs: ``levels:`` families, their pairwise tests and Holm's adjustment.

The adjusted p-values are checked against R 4.2.2's ``pairwise.wilcox.test`` and
``pairwise.t.test(pool.sd = FALSE)`` (``tests/data/rank_tests/make_reference.R``), through the
same function the workflow's ``qpcr_contrast`` rule calls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from fibroskin.config import Contrast, Design, QpcrSettings, expand_contrasts, pair_name
from fibroskin.qpcr_steps import marker_statistics

LEVELS = ["healthy", "non-lesional", "lesional"]


def test_levels_expand_to_every_pair_with_stable_names_earlier_level_as_reference():
    contrasts = expand_contrasts(
        {
            "skin": {"column": "condition", "levels": LEVELS},
            "lesional_vs_healthy_paired": {"column": "condition", "reference": "healthy", "target": "lesional"},
        }
    )
    assert [(c.name, c.reference, c.target) for c in contrasts] == [
        ("non-lesional_vs_healthy", "healthy", "non-lesional"),
        ("lesional_vs_healthy", "healthy", "lesional"),
        ("lesional_vs_non-lesional", "non-lesional", "lesional"),
        ("lesional_vs_healthy_paired", "healthy", "lesional"),
    ]
    assert {c.family for c in contrasts[:3]} == {"skin"} and contrasts[3].family is None
    assert contrasts[0].levels == tuple(LEVELS) and contrasts[3].levels == ("healthy", "lesional")
    assert pair_name("healthy donor", "lesional/arm") == "lesional-arm_vs_healthy-donor"


def cohort(case: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The dCq table and sample sheet of one three-group case of the R reference."""
    first = case.iloc[0]
    values = [float(value) for value in first["values"].split(",")]
    groups = first["groups"].split(",")
    patients = first["patients"].split(",")
    samples = [f"{patient}_{group}" for patient, group in zip(patients, groups)]
    sheet = pd.DataFrame({"sample": samples, "condition": groups, "patient": patients})
    delta = pd.DataFrame({"sample": samples, "target": "TGFB1", "dcq": values})
    reference_gene = pd.DataFrame({"sample": samples, "target": "GAPDH", "dcq": 0.0})
    return pd.concat([delta, reference_gene], ignore_index=True), sheet


@pytest.mark.parametrize(
    ("paired", "test", "column"),
    [
        (False, "mannwhitney", "holm_wilcox"),
        (False, "welch", "holm_t"),
        (True, "wilcoxon", "holm_wilcox"),
        (True, "paired_t", "holm_t"),
    ],
)
def test_padj_pairwise_equals_r_pairwise_tests_with_holm(paired, test, column):
    table = pd.read_csv(DATA / "rank_tests" / "pairwise_cases.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    table = table[table["paired"] == ("TRUE" if paired else "FALSE")]
    contrasts = expand_contrasts({"skin": {"column": "condition", "levels": LEVELS}})
    worst, compared = 0.0, 0
    for _, case in table.groupby("case", sort=False):
        delta, sheet = cohort(case)
        design = Design(
            samples=sheet,
            sample_sheet=Path("samples.tsv"),
            contrasts=contrasts,
            markers=["TGFB1"],
            qpcr=QpcrSettings(cq_tables=(), reference_genes=("GAPDH",), test=test),
        )
        for row in case.itertuples():
            contrast = next(c for c in contrasts if (c.reference, c.target) == (row.reference, row.target))
            stats, notes = marker_statistics(delta, design, contrast)
            result = stats.set_index("gene").loc["TGFB1"]
            expected = float(getattr(row, column))
            worst = max(worst, abs(result["padj_pairwise"] - expected) / expected)
            assert result["test"] == test and result["padj_method"] == "BH"
            assert result["padj_pairwise_method"] == (
                "holm over the 3 pairwise contrasts of condition (healthy, non-lesional, lesional)"
            )
            assert result["padj_pairwise"] >= result["pvalue"]
            compared += 1
    assert compared == 36
    assert worst <= 1e-9


def test_a_single_contrast_has_no_pairwise_adjustment_and_bh_over_genes():
    sheet = pd.DataFrame({"sample": [f"S{i}" for i in range(8)], "condition": ["healthy"] * 4 + ["lesional"] * 4})
    rng = np.random.default_rng(3)
    delta = pd.concat(
        [pd.DataFrame({"sample": sheet["sample"], "target": gene, "dcq": rng.normal(6, 1, 8)}) for gene in ("A", "B", "C")]
        + [pd.DataFrame({"sample": sheet["sample"], "target": "GAPDH", "dcq": 0.0})],
        ignore_index=True,
    )
    contrast = Contrast("lesional_vs_healthy", "condition", "healthy", "lesional")
    design = Design(sheet, Path("s.tsv"), [contrast], [], QpcrSettings((), ("GAPDH",)))
    stats, notes = marker_statistics(delta, design, contrast)
    assert stats["padj_pairwise"].isna().all() and stats["padj_pairwise_method"].isna().all()
    # BH by hand: p sorted ascending, p_(i) * m / i, then running minimum from the top
    pvalues = stats["pvalue"].to_numpy()
    order = np.argsort(pvalues)
    by_hand = np.minimum.accumulate((pvalues[order] * 3 / np.arange(1, 4))[::-1])[::-1]
    np.testing.assert_allclose(stats["padj"].to_numpy()[order], np.minimum(by_hand, 1))
    assert stats["lm_pvalue"].isna().all() and notes == []
