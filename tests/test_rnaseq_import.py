"""The import step: any upstream input -> counts.tsv (gene, symbol, samples) and, for the DE
engine's length offsets, lengths.tsv; the fit refuses lengths until the engine applies them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import DATA
from fibroskin.config import load_design
from fibroskin.rnaseq_steps import counts_from_table, fit, import_counts, symbol_annotation

NFCORE = DATA / "upstream" / "nfcore"


def nfcore_design(tmp_path, **rnaseq):
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tcondition\nctrl_1\tctrl\nctrl_2\tctrl\ncase_1\tcase\ncase_2\tcase\n")
    return load_design({
        "samples": str(sheet),
        "contrasts": {"case_vs_ctrl": {"column": "condition", "reference": "ctrl", "target": "case"}},
        "rnaseq": {"counts": str(NFCORE / "salmon.merged.gene_counts.tsv"), **rnaseq},
    })


def test_counts_table_carries_upstream_symbols_under_the_users_annotation(tmp_path):
    annotation = tmp_path / "annotation.tsv"
    annotation.write_text("gene_id\tsymbol\nENSG00000000419.14\tDPM1_user\n")
    outputs = import_counts(nfcore_design(tmp_path, annotation=str(annotation)))
    table = outputs.counts.set_index("gene")
    assert list(outputs.counts.columns) == ["gene", "symbol", "ctrl_1", "ctrl_2", "case_1", "case_2"]
    assert table.loc["ENSG00000000419.14", "symbol"] == "DPM1_user"  # the user's annotation wins
    assert table.loc["ENSG00000000003.15", "symbol"] == "TSPAN6"  # nf-core's gene_name
    assert table.loc["ENSG00000108821.14", "symbol"] == "COL1A1"  # the marker panel
    assert outputs.lengths is None
    counts, symbols = counts_from_table(outputs.counts)
    assert counts.dtypes.eq(np.int64).all() and symbols.columns.tolist() == ["gene_id", "symbol"]


def test_lengths_reach_the_fit_as_normalization_factors(tmp_path):
    from fibroskin.tximport import length_normalization_factors

    design = nfcore_design(tmp_path, lengths=str(NFCORE / "salmon.merged.gene_lengths.tsv"))
    outputs = import_counts(design)
    assert outputs.lengths.columns.tolist() == ["gene", "ctrl_1", "ctrl_2", "case_1", "case_2"]
    assert outputs.lengths["gene"].tolist() == outputs.counts["gene"].tolist()
    fitted = fit(design, outputs.counts, outputs.lengths)
    genes = [str(g) for g in fitted.dds.var_names]
    counts = outputs.counts.set_index("gene").loc[genes].drop(columns="symbol")
    lengths = outputs.lengths.set_index("gene").loc[genes, counts.columns].astype(float)
    # R's normalizationFactors of the genes the prefilter kept
    expected = length_normalization_factors(counts, lengths).to_numpy().T
    np.testing.assert_array_equal(fitted.dds.layers["normalization_factors"], expected)
    normalized = fitted.normalized_counts.set_index("gene").loc[genes, counts.columns].to_numpy()
    np.testing.assert_allclose(normalized, counts.to_numpy() / expected.T, rtol=1e-15)
    assert any(note.startswith("length offsets: average transcript lengths of the") for note in fitted.notes)
    # without the lengths the same counts give other numbers
    plain = fit(design, outputs.counts)
    assert not np.allclose(plain.normalized_counts.set_index("gene").loc[genes, counts.columns].to_numpy(), normalized)


def test_symbol_annotation_order():
    upstream = pd.Series({"G1": "up1", "G2": "up2"})
    user = pd.DataFrame({"gene_id": ["G2"], "symbol": ["user2"]})
    merged = symbol_annotation(upstream, user).set_index("gene_id")["symbol"].to_dict()
    assert merged == {"G2": "user2", "G1": "up1"}
    assert symbol_annotation(None, None) is None


def test_the_fit_reads_its_counts_by_blocks_as_the_whole_table(tmp_path, monkeypatch):
    """prefiltered_counts of counts.tsv's path (read by blocks, prefiltered as they come) equals that of the table."""
    from fibroskin.config import load_design
    from fibroskin.rnaseq import simulate_counts
    from fibroskin.rnaseq_steps import prefiltered_counts
    from fibroskin.tables import read_tsv, write_tsv

    counts, sheet = simulate_counts(n_genes=900, n_patients=4, seed=3)
    counts.iloc[::7] = 0  # genes the prefilter removes, in every block
    table = counts.reset_index()
    table.insert(1, "symbol", [f"S{i}" for i in range(len(table))])
    write_tsv(table, tmp_path / "counts.tsv")
    sheet.to_csv(tmp_path / "samples.tsv", sep="\t", index=False)
    design = load_design({
        "samples": str(tmp_path / "samples.tsv"),
        "contrasts": {"c": {"column": "condition", "reference": "non-lesional", "target": "lesional"}},
        "rnaseq": {"counts": str(tmp_path / "counts.tsv"), "design": "~condition", "min_count": 10,
                   "min_samples": None, "alpha": 0.05, "shrink": True, "engine": "fast"},
    })
    import fibroskin.rnaseq_steps as steps

    whole = prefiltered_counts(design, read_tsv(tmp_path / "counts.tsv"))
    original = steps._table_blocks
    monkeypatch.setattr(steps, "_table_blocks", lambda path, rows=4096: original(path, 64))
    blocks = prefiltered_counts(design, tmp_path / "counts.tsv")
    pd.testing.assert_frame_equal(blocks.counts, whole.counts)
    pd.testing.assert_frame_equal(blocks.annotation, whole.annotation)
    assert blocks.notes == whole.notes and len(whole.counts) < 900
