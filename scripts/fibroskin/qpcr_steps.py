"""One function per qPCR rule of the workflow: tables in, tables out.

The scripts Snakemake runs (``scripts/qpcr_*.py``) only read their inputs, call one of these
and write the result, so the whole branch can be run and tested without Snakemake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fibroskin import miqe, qpcr, qpcr_model
from fibroskin.config import Contrast, Design, QpcrSettings
from fibroskin.io.cq import WELL_COLUMNS
from fibroskin.io.instruments import read_qpcr_files
from fibroskin.stats import holm

#: Columns of ``results/qpcr/efficiency.tsv``.
EFFICIENCY_COLUMNS = [
    "target",
    "n_points",
    "slope",
    "intercept",
    "r_squared",
    "amplification",
    "efficiency_pct",
    "flag",
    "amplification_used",
    "amplification_source",
]


@dataclass
class Wells:
    """The tidy wells of a run after inter-plate calibration, and what was done to them."""

    wells: pd.DataFrame
    plate_offsets: pd.DataFrame
    notes: list[str]


def read_wells(settings: QpcrSettings) -> Wells:
    """Read every configured export and correct plate offsets from inter-run calibrators.

    Calibration runs only when some sample and target were measured on two or more plates
    and ``calibrate_plates`` is on; otherwise the offsets table is empty.
    """
    wells, notes = read_qpcr_files(list(settings.cq_tables), format=settings.format, plate_map=settings.plate_map)
    offsets = pd.DataFrame(columns=["plate", "target", "plate_offset", "n_calibrators"])
    unknown = wells[wells["task"] == "unknown"]
    on_several_plates = unknown.groupby(["sample", "target"])["plate"].nunique() > 1
    if settings.calibrate_plates and on_several_plates.any():
        corrected, offsets = miqe.interplate_calibration(wells)
        wells = corrected[WELL_COLUMNS]
        notes.append(
            f"inter-plate calibration: {int(on_several_plates.sum())} (sample, target) pairs measured on several "
            f"plates; largest plate offset {offsets['plate_offset'].abs().max():.3f} cycles"
        )
    return Wells(wells[WELL_COLUMNS].reset_index(drop=True), offsets.reset_index(drop=True), notes)


def efficiency_table(wells: pd.DataFrame, settings: QpcrSettings) -> pd.DataFrame:
    """Standard-curve fit of every target plus the amplification factor the analysis uses.

    Priority: ``qpcr.efficiency`` from the config, else a curve without flag, else 2
    (perfect doubling, the comparative Cq method's assumption). Targets without standards
    have NaN fit columns.
    """
    targets = sorted(wells.loc[wells["task"] != "ntc", "target"].unique())
    curves = miqe.fit_standard_curves(wells)
    chosen = miqe.amplification_factors(targets, curves, settings.efficiency)
    table = pd.DataFrame({"target": targets}).merge(curves, on="target", how="left")
    table = table.merge(
        chosen.rename(columns={"amplification": "amplification_used", "source": "amplification_source"}),
        on="target",
        how="left",
    )
    table["flag"] = table["flag"].fillna("no standard curve")
    return table[EFFICIENCY_COLUMNS]


def uses_efficiency_correction(efficiency: pd.DataFrame) -> bool:
    """True when any target's amplification factor differs from 2 (Pfaffl, not plain ddCq)."""
    return bool((~np.isclose(efficiency["amplification_used"], 2.0)).any())


def amplification_mapping(efficiency: pd.DataFrame) -> dict[str, float] | None:
    """Target -> amplification factor, or None when all are 2 (the textbook method)."""
    if not uses_efficiency_correction(efficiency):
        return None
    return dict(zip(efficiency["target"], efficiency["amplification_used"].astype(float)))


def delta_cq(wells: pd.DataFrame, efficiency: pd.DataFrame, settings: QpcrSettings) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Wells to (qc, delta_cq, notes) with the run's amplification factors."""
    qc, delta = qpcr.analyse_wells(
        wells,
        settings.reference_genes,
        settings.max_cq,
        settings.replicate_max_spread,
        settings.drop_replicate_outliers,
        amplification_mapping(efficiency),
    )
    notes = qpcr.missing_value_notes(delta, settings.reference_genes)
    if uses_efficiency_correction(efficiency):
        notes.append("relative quantities follow Pfaffl (2001): each gene with its own amplification factor")
    return qc, delta, notes


def reference_stability(
    wells: pd.DataFrame, efficiency: pd.DataFrame, settings: QpcrSettings, groups: pd.Series | None
) -> tuple[pd.DataFrame, pd.DataFrame, miqe.GenormResult | None, list[str]]:
    """geNorm M, NormFinder and V(n/n+1) of the configured reference genes.

    Returns
    -------
    stability, pairwise_variation, genorm_result, warnings
        ``genorm_result`` is None with fewer than two reference genes.
    """
    cq = miqe.sample_target_cq(wells[wells["task"] == "unknown"].assign(cq=lambda t: t["cq"].where(t["cq"] <= settings.max_cq)))
    amplification = dict(zip(efficiency["target"], efficiency["amplification_used"].astype(float)))
    stability, variation, warnings = miqe.reference_stability(cq, list(settings.reference_genes), amplification, groups)
    result = None
    if len(settings.reference_genes) >= 2:
        references = cq[cq["target"].isin(settings.reference_genes)]
        quantities = miqe.relative_quantities(references, {g: amplification.get(g, 2.0) for g in settings.reference_genes})
        wide = quantities.pivot(index="sample", columns="target", values="relative_quantity").dropna()
        if len(wide) >= 2:
            result = miqe.genorm(wide)
    return stability, variation, result, warnings


def family_contrasts(design: Design, contrast: Contrast) -> list[Contrast]:
    """The pairwise contrasts of the contrast's ``levels:`` family (just itself otherwise)."""
    if contrast.family is None:
        return [contrast]
    return [other for other in design.contrasts if other.family == contrast.family]


def pairwise_adjustment(pvalues: pd.DataFrame) -> pd.DataFrame:
    """Holm over the pairwise contrasts of each gene (rows: genes, columns: contrasts).

    As R's ``pairwise.t.test`` / ``pairwise.wilcox.test`` with their default
    ``p.adjust.method = "holm"``: it controls the family-wise error over the pairs of one gene.
    """
    adjusted = np.vstack([holm(row) for row in pvalues.to_numpy(dtype=float)]) if len(pvalues) else pvalues.to_numpy()
    return pd.DataFrame(adjusted, index=pvalues.index, columns=pvalues.columns)


def marker_statistics(delta: pd.DataFrame, design: Design, contrast: Contrast) -> tuple[pd.DataFrame, list[str]]:
    """``marker_stats.tsv`` of one contrast: tests, their adjustments and the linear model.

    - the tests of :func:`fibroskin.qpcr.contrast_statistics`, ``padj`` Benjamini-Hochberg
      over the genes (``padj_method``: ``BH``);
    - for a pair of a ``levels:`` family, ``padj_pairwise``: the configured test's p-value
      Holm-adjusted over the family's pairs, per gene (each pair tested on its own two groups);
    - with ``qpcr.design``, the ``lm_`` columns of :func:`fibroskin.qpcr_model.model_statistics`.

    Returns
    -------
    table, notes
        :data:`fibroskin.qpcr.MARKER_STATS_COLUMNS`; log lines for genes the model could not fit.
    """
    settings = design.qpcr
    arguments = (delta, design.samples)
    options = {"reference_genes": settings.reference_genes, "markers": design.markers, "test": settings.test}
    table = qpcr.contrast_statistics(*arguments, contrast, **options)
    table["padj_method"] = "BH"
    table["padj_pairwise"] = np.nan
    table["padj_pairwise_method"] = np.nan
    siblings = family_contrasts(design, contrast)
    if contrast.family is not None:
        pvalues = pd.DataFrame(
            {
                other.name: (table if other == contrast else qpcr.contrast_statistics(*arguments, other, **options))
                .set_index("gene")["pvalue"]
                for other in siblings
            }
        )
        adjusted = pairwise_adjustment(pvalues.reindex(table["gene"]))
        table["padj_pairwise"] = adjusted[contrast.name].to_numpy()
        table["padj_pairwise_method"] = (
            f"holm over the {len(siblings)} pairwise contrasts of {contrast.column} "
            f"({', '.join(contrast.family_levels)})"
        )
    model, notes = qpcr_model.model_statistics(*arguments, contrast, settings.design, table["gene"].tolist())
    table = table.join(model, on="gene")
    return table[qpcr.MARKER_STATS_COLUMNS], notes
