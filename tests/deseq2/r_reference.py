"""R DESeq2 1.38.3's stage-by-stage output (tests/data/<set>/, made by the R scripts there)."""

from __future__ import annotations

import pandas as pd

from conftest import DATA

#: Stage tables: gene-wise dispersion and its iterations, trend, MAP and final
#: dispersions, results() columns, one row per gene (R's row order).
STAGES = {
    "pasilla": DATA / "pasilla" / "R_DESeq2_1.38.3_stages",
    "airway": DATA / "airway" / "R_DESeq2_1.38.3_celltype_dex",
}


def r_stages(name: str) -> pd.DataFrame:
    """R's per-gene stage table of ``name``, indexed by gene."""
    return pd.read_csv(f"{STAGES[name]}.csv.gz", index_col=0, float_precision="round_trip")


def r_summary(name: str) -> pd.Series:
    """R's size factors (``size_factor_<sample>``), ``trend_a0``, ``trend_a1``, ``prior_variance``."""
    table = pd.read_csv(f"{STAGES[name]}_summary.csv", index_col=0, float_precision="round_trip")
    return table["value"]
