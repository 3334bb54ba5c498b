"""Interactive volcano, MA and PCA plots: one self-contained HTML page each, opened offline.

Hovering a point shows its numbers (gene: symbol, gene ID, baseMean, log2 fold change,
p-value, padj; sample: name, group, batch, PC1, PC2), a search box finds a gene (or sample)
by name, dragging zooms. The page holds its data and its drawing code
(``interactive_scatter.js``, a canvas and no library): nothing is fetched, no server runs.

Why no plotting library: the Snakemake report shows an HTML result in an iframe whose
source is a ``data:`` URI, and Chromium-based browsers refuse such URIs above 2 MB. A
plotly page carries plotly.js (4.8 MB) and a bokeh page BokehJS (1.3 MB, with its WebGL and
widget parts 1.8 MB) before any data: at 60,000 genes their pages are 10.9 and 5.2 MB, and
the report cannot show them, while this page is 1.1 MB and draws in under a second
(``resources/benchmark/interactive_libraries.tsv``, made by
``resources/benchmark/compare_interactive_libraries.py``).

Columns travel as gzip-compressed text (the browser's ``DecompressionStream`` unpacks
them); every number is formatted here, once, so the page shows exactly what Python wrote
(baseMean and p-values to 3 significant digits, log2 fold changes to 3 decimals).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
from importlib import resources

import numpy as np
import pandas as pd

from fibroskin.plots.rnaseq_data import (
    NOT_SIGNIFICANT_COLOUR,
    condition_order,
    found_markers,
    pca_coordinates,
    sample_sheet,
    short_sample_names,
    significance_classes,
)

#: Samples up to which the PCA page labels every point (as the static PCA).
LABEL_ALL_SAMPLES = 16


def significant_text(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, without trailing zeros: 542, 12300, 0.0123, 3.23e-102."""
    if value is None or not math.isfinite(value):
        return ""
    return format(float(format(value, f".{digits}g")), "g")


def signed_text(value: float, decimals: int = 3) -> str:
    """A log2 fold change with its sign: +1.425, -0.310."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:+.{decimals}f}"


def pack(columns: dict[str, list[str]]) -> str:
    """Columns of text as base64 of gzip of JSON (one newline-joined string per column).

    Deterministic: gzip without a timestamp, keys in the given order.
    """
    joined = {name: "\n".join(values) for name, values in columns.items()}
    raw = json.dumps(joined, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # level 6: 3% larger than level 9 on a 60,000-gene table, 5 times faster to write
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def _script() -> str:
    return resources.files("fibroskin.plots").joinpath("interactive_scatter.js").read_text(encoding="utf-8")


STYLE = """
body { font: 14px system-ui, sans-serif; margin: 12px 16px; color: #222; }
h1 { font-size: 17px; margin: 0 0 2px; }
.subtitle { margin: 0 0 8px; color: #555; }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 6px; }
#search { width: 16em; padding: 3px 6px; }
#search-status { color: #8a3b00; }
.suggestion { border: none; background: #eef3f8; color: #0059a0; cursor: pointer; padding: 1px 5px; border-radius: 3px; }
#plot { position: relative; width: 100%; height: min(72vh, 620px); min-height: 320px; }
#plot-canvas { width: 100%; height: 100%; display: block; cursor: crosshair; }
#tooltip { position: absolute; pointer-events: none; background: rgba(255,255,255,0.96); border: 1px solid #888;
  border-radius: 4px; padding: 5px 8px; font-size: 13px; box-shadow: 0 1px 4px rgba(0,0,0,0.2); white-space: nowrap; }
#tooltip.pinned { border-color: #000; }
#tooltip .key { color: #555; }
#legend { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap; gap: 14px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; }
.help { color: #666; font-size: 12px; margin: 4px 0; }
"""


def page(spec: dict, title: str, subtitle: str, search_placeholder: str) -> str:
    """The HTML page: header with search, canvas, legend, then the spec and the drawing code."""
    spec_json = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"subtitle\">{html.escape(subtitle)}</p>"
        '<div class="controls"><label for="search">Find</label>'
        f'<input id="search" type="search" autocomplete="off" placeholder="{html.escape(search_placeholder)}">'
        '<button id="reset" type="button">Reset zoom</button><span id="search-status" role="status"></span></div>'
        '<div id="plot"><canvas id="plot-canvas"></canvas><div id="tooltip" role="status" hidden></div></div>'
        '<ul id="legend"></ul>'
        '<p class="help">Hover a point to read its numbers; type a name and press Enter to find it; '
        "drag a rectangle to zoom, double-click (or Reset zoom) to zoom out.</p>"
        f'<script id="fibroskin-spec" type="application/json">{spec_json}</script>'
        f"<script>{_script()}</script></body></html>\n"
    )


def _gene_columns(frame: pd.DataFrame, classes: np.ndarray) -> dict[str, list[str]]:
    genes = frame["gene"].astype(str).tolist()
    symbols = frame["symbol"].astype(str).tolist() if "symbol" in frame else genes
    return {
        "gene": genes,
        # empty where the symbol is the ID itself: the page shows the ID (half the bytes)
        "symbol": ["" if symbol == gene or symbol == "nan" else symbol for symbol, gene in zip(symbols, genes)],
        "baseMean": [significant_text(v) for v in frame["baseMean"].astype(float)],
        "log2FoldChange": [signed_text(v) for v in frame["log2FoldChange"].astype(float)],
        "pvalue": [significant_text(v) for v in frame["pvalue"].astype(float)],
        "padj": [significant_text(v) for v in frame["padj"].astype(float)],
        "class": [str(int(c)) for c in classes],
    }


def _gene_classes(frame: pd.DataFrame, reference: str, target: str, palette: dict[str, str],
                  alpha: float) -> tuple[np.ndarray, list[dict]]:
    """Class code per gene (0 not significant, 1 higher in reference, 2 higher in target) and the legend."""
    labels = significance_classes(frame, alpha, reference, target).to_numpy()
    codes = np.select([labels == reference, labels == target], [1, 2], default=0)
    legend = [
        {"label": f"not significant (padj \u2265 {alpha:g})", "colour": NOT_SIGNIFICANT_COLOUR, "size": 3,
         "opacity": 0.7, "count": int((codes == 0).sum())},
        {"label": f"higher in {reference}", "colour": palette[reference], "size": 4, "count": int((codes == 1).sum())},
        {"label": f"higher in {target}", "colour": palette[target], "size": 4, "count": int((codes == 2).sum())},
    ]
    return codes, legend


def _gene_table(results: pd.DataFrame) -> pd.DataFrame:
    """The results sorted by gene ID (shared prefixes compress well), as plain columns."""
    frame = results.copy()
    frame["gene"] = frame["gene"].astype(str)
    return frame.sort_values("gene", kind="stable").reset_index(drop=True)


def _highlight(frame: pd.DataFrame, markers: pd.DataFrame | None) -> list[int]:
    found = found_markers(markers)
    position = pd.Series(np.arange(len(frame)), index=frame["gene"])
    return sorted(int(position[gene]) for gene in found["gene"].astype(str) if gene in position.index)


GENE_TOOLTIP = [
    {"column": "gene", "label": "gene ID"},
    {"column": "baseMean", "label": "baseMean"},
    {"column": "log2FoldChange", "label": "log2FC"},
    {"column": "pvalue", "label": "p-value"},
    {"column": "padj", "label": "padj"},
]


def _gene_spec(frame: pd.DataFrame, codes: np.ndarray, legend: list[dict], markers: pd.DataFrame | None) -> dict:
    return {
        "payload": pack(_gene_columns(frame, codes)),
        "id_column": "gene",
        "name_column": "symbol",
        "class_column": "class",
        "classes": legend,
        "search_columns": ["symbol", "gene"],
        "search_noun": "gene",
        "tooltip": GENE_TOOLTIP,
        "highlight": _highlight(frame, markers),
    }


def volcano_page(results: pd.DataFrame, palette: dict[str, str], reference: str, target: str,
                 markers: pd.DataFrame | None = None, alpha: float = 0.05, contrast: str = "") -> str:
    """The interactive volcano plot: log2 fold change against -log10 p-value, every tested gene.

    Genes, colours and axes are those of :func:`fibroskin.plots.rnaseq.volcano_plot`; genes
    without a p-value (not drawn there either) can still be found by the search.
    """
    frame = _gene_table(results)
    codes, legend = _gene_classes(frame, reference, target, palette, alpha)
    lfc = frame["log2FoldChange"].astype(float)
    pvalues = frame["pvalue"].astype(float)
    drawn = np.isfinite(lfc) & pvalues.notna()
    positive = pvalues[drawn & (pvalues > 0)]
    floor = float(positive.min()) if len(positive) else 1e-300
    top = float((-np.log10(pvalues[drawn].clip(lower=floor))).max()) if drawn.any() else 1.0
    limit = float(np.nanmax(np.abs(lfc[drawn]))) if drawn.any() else 1.0
    spec = _gene_spec(frame, codes, legend, markers) | {
        # p-values that underflowed to 0 are drawn at the smallest positive one, as in the PNG
        "x": {"column": "log2FoldChange", "transform": "none", "label": f"log\u2082 fold change ({target} / {reference})",
              "range": [-limit * 1.1, limit * 1.1]},
        "y": {"column": "pvalue", "transform": "neglog10", "floor": significant_text(floor),
              "label": "\u2212log\u2081\u2080 p-value", "range": [-0.03 * top, top * 1.08 + 0.5]},
        "reference_lines": [{"axis": "x", "value": 0}],
    }
    title = f"Volcano plot: {target} vs {reference}"
    subtitle = (f"contrast {contrast}; DESeq2 Wald test, {int(drawn.sum()):,} genes drawn; "
                f"coloured where padj < {alpha:g}")
    return page(spec, title, subtitle, "gene symbol or ID, e.g. TGFB1")


def ma_page(results: pd.DataFrame, palette: dict[str, str], reference: str, target: str,
            markers: pd.DataFrame | None = None, alpha: float = 0.05, contrast: str = "") -> str:
    """The interactive MA plot: mean of normalized counts (log scale) against log2 fold change."""
    frame = _gene_table(results)
    codes, legend = _gene_classes(frame, reference, target, palette, alpha)
    lfc = frame["log2FoldChange"].astype(float)
    base_mean = frame["baseMean"].astype(float)
    drawn = (base_mean > 0) & np.isfinite(lfc)
    limit = float(np.nanmax(np.abs(lfc[drawn]))) if drawn.any() else 1.0
    low = float(np.log10(base_mean[drawn].min() / 2)) if drawn.any() else 0.0
    high = float(np.log10(base_mean[drawn].max() * 2)) if drawn.any() else 1.0
    spec = _gene_spec(frame, codes, legend, markers) | {
        "x": {"column": "baseMean", "transform": "log10", "log": True, "label": "mean of normalized counts",
              "range": [low, high]},
        "y": {"column": "log2FoldChange", "transform": "none", "label": f"log\u2082 fold change ({target} / {reference})",
              "range": [-limit * 1.1, limit * 1.1]},
        "reference_lines": [{"axis": "y", "value": 0}],
    }
    title = f"MA plot: {target} vs {reference}"
    subtitle = (f"contrast {contrast}; {int(drawn.sum()):,} genes with baseMean > 0; "
                f"coloured where padj < {alpha:g}")
    return page(spec, title, subtitle, "gene symbol or ID, e.g. COL1A1")


def pca_page(vst_table: pd.DataFrame, sample_table: pd.DataFrame, palette: dict[str, str],
             condition_column: str = "condition", batch_column: str = "batch", ntop: int = 500) -> str:
    """The interactive PCA of the VST: the coordinates of :func:`fibroskin.plots.rnaseq.pca_plot`."""
    coordinates, percent = pca_coordinates(vst_table, ntop)
    sheet = sample_sheet(sample_table).reindex(coordinates.index)
    conditions = sheet[condition_column].astype(str)
    order = condition_order(conditions, palette)
    code = {condition: index for index, condition in enumerate(order)}
    has_batch = batch_column in sheet and sheet[batch_column].nunique() > 1
    second = coordinates["PC2"] if "PC2" in coordinates else pd.Series(0.0, index=coordinates.index)
    columns = {
        "sample": [str(sample) for sample in coordinates.index],
        "label": short_sample_names(coordinates.index),
        "group": conditions.tolist(),
        "PC1": [significant_text(v) for v in coordinates["PC1"]],
        "PC2": [significant_text(v) for v in second],
        "class": [str(code[c]) for c in conditions],
    }
    tooltip = [{"column": "sample", "label": "sample"}, {"column": "group", "label": condition_column}]
    if has_batch:
        columns["batch"] = sheet[batch_column].astype(str).tolist()
        tooltip.append({"column": "batch", "label": batch_column})
    tooltip += [{"column": "PC1", "label": "PC1"}, {"column": "PC2", "label": "PC2"}]
    spec = {
        "payload": pack(columns),
        "id_column": "sample",
        "name_column": "label",
        "class_column": "class",
        "classes": [{"label": condition, "colour": palette.get(condition, NOT_SIGNIFICANT_COLOUR), "size": 11,
                     "opacity": 0.9, "count": int((conditions == condition).sum())} for condition in order],
        "search_columns": ["sample", "label"],
        "search_noun": "sample",
        "tooltip": tooltip,
        "highlight": [],
        "label_all": len(coordinates) <= LABEL_ALL_SAMPLES,
        "x": {"column": "PC1", "transform": "none", "label": f"PC1: {percent[0]:.0f}% variance"},
        "y": {"column": "PC2", "transform": "none",
              "label": f"PC2: {percent[1]:.0f}% variance" if len(percent) > 1 else "PC2"},
        "reference_lines": [],
    }
    n_genes = min(ntop, len(vst_table))
    title = "PCA of the samples"
    subtitle = f"top {n_genes} variable genes (VST), {len(coordinates)} samples, coloured by {condition_column}"
    return page(spec, title, subtitle, "sample name")
