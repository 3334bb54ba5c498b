"""The fast engine's fits of pasilla and airway, shared by the deseq2 stage tests."""

from __future__ import annotations

import functools

import pandas as pd

from fibroskin import rnaseq
from fibroskin.io.counts import read_counts

from conftest import shared_data


@functools.cache
def pasilla_fit():
    """pasilla ``~condition`` (treated the baseline) with the workflow's fast engine."""
    counts, _ = read_counts(shared_data("pasilla", "pasilla_counts.csv"))
    sheet = pd.read_csv(shared_data("pasilla", "pasilla_metadata.csv"))
    return rnaseq.fit_deseq(counts, sheet, "~condition", reference_levels={"condition": "treated"})


@functools.cache
def airway_fit():
    """airway ``~celltype + dex``, prefiltered as the workflow does (>= 10 reads in >= 4 samples)."""
    counts = pd.read_csv(shared_data("airway", "airway_rawcounts.csv.gz"), index_col=0)
    sheet = pd.read_csv(shared_data("airway", "airway_metadata.csv")).rename(columns={"id": "sample"})
    kept = rnaseq.prefilter(counts, sheet.set_index("sample")["dex"], 10)
    return rnaseq.fit_deseq(kept, sheet, "~celltype + dex", reference_levels={"dex": "control"})
