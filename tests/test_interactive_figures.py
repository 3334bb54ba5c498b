"""The interactive volcano, MA and PCA pages: their data, and what a reader sees in a real browser.

The browser tests open the pages of the bundled example's run (and the Snakemake report
embedding them) in headless Chromium, move the mouse onto a gene and read the tooltip the
page shows, then compare it with ``deseq2_results.tsv``.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from browser import chromium, hover, wait_until
from conftest import example_run, run_workflow
from fibroskin.plots.interactive import ma_page, pca_page, significant_text, signed_text, volcano_page
from fibroskin.plots.rnaseq import pca_coordinates, significance_classes
from fibroskin.plots.theme import condition_palette
from fibroskin.tables import read_tsv

CONTRAST = "lesional_vs_healthy"
PALETTE = condition_palette("healthy", "lesional")


def page_data(page: str) -> tuple[dict, dict[str, list[str]]]:
    """The spec and the unpacked columns of a page, as the browser reads them."""
    spec = json.loads(re.search(r'<script id="fibroskin-spec" type="application/json">(.*?)</script>', page, re.S)
                      .group(1).replace("<\\/", "</"))
    raw = json.loads(gzip.decompress(base64.b64decode(spec["payload"])))
    return spec, {name: (text.split("\n") if text else []) for name, text in raw.items()}


@pytest.fixture(scope="module")
def run() -> Path:
    return example_run("first")


@pytest.fixture(scope="module")
def results(run) -> pd.DataFrame:
    return read_tsv(run / f"results/{CONTRAST}/rnaseq/deseq2_results.tsv")


def expected_tooltip(row: pd.Series) -> dict[str, str]:
    """The tooltip of a gene as the page must show it, formatted from the TSV row."""
    return {
        "gene ID": row["gene"],
        "baseMean": significant_text(row["baseMean"]),
        "log2FC": signed_text(row["log2FoldChange"]),
        "p-value": significant_text(row["pvalue"]),
        "padj": significant_text(row["padj"]) or "NA",
    }


def test_number_formats():
    assert [significant_text(v) for v in (1350.4, 118234.0, 3.2346e-102, 0.049996, 1.0, 0.0, float("nan"))] == [
        "1350", "118000", "3.23e-102", "0.05", "1", "0", ""]
    assert [signed_text(v) for v in (1.39562, -0.3104, 0.0)] == ["+1.396", "-0.310", "+0.000"]


def test_the_volcano_page_holds_every_gene_with_its_class_and_the_markers(run, results):
    markers = read_tsv(run / f"results/{CONTRAST}/rnaseq/marker_results.tsv")
    page = volcano_page(results, PALETTE, "healthy", "lesional", markers, 0.05, CONTRAST)
    assert page == volcano_page(results, PALETTE, "healthy", "lesional", markers, 0.05, CONTRAST)  # deterministic
    spec, columns = page_data(page)
    table = results.sort_values("gene", kind="stable").reset_index(drop=True)
    assert columns["gene"] == table["gene"].tolist()
    assert columns["padj"] == [significant_text(v) for v in table["padj"]]
    classes = significance_classes(table, 0.05, "healthy", "lesional")
    codes = np.array(columns["class"], dtype=int)
    assert (codes == 2).sum() == (classes == "lesional").sum() > 0
    assert ((codes == 1) == (classes == "healthy").to_numpy()).all()
    assert [c["count"] for c in spec["classes"]] == [int((codes == k).sum()) for k in range(3)]
    highlighted = {columns["symbol"][i] or columns["gene"][i] for i in spec["highlight"]}
    assert highlighted == {"TGFB1", "COL1A1", "COL1A2", "COL3A1", "CCN2"}
    # the generated pages on disk are the same bytes
    assert (run / f"results/{CONTRAST}/figures/rnaseq_volcano.html").read_text() == page


def test_pages_load_nothing_from_outside(run):
    for path in (run / f"results/{CONTRAST}/figures/rnaseq_volcano.html", run / "results/figures/rnaseq_pca.html"):
        page = path.read_text()
        assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page), path
        assert "@import" not in page and "url(" not in page


def synthetic_genome_wide(n: int = 60_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    genes = [f"ENSG{value:011d}.{v}" for value, v in zip(np.sort(rng.choice(300_000, n, replace=False)), rng.integers(1, 20, n))]
    pvalue = rng.uniform(size=n) ** 3
    return pd.DataFrame({"gene": genes, "symbol": [f"GENE{i}" if i % 3 else g for i, g in enumerate(genes)],
                         "baseMean": rng.lognormal(4, 2, n), "log2FoldChange": rng.normal(0, 1, n),
                         "pvalue": pvalue, "padj": np.minimum(1, pvalue * 20)})


def test_a_genome_wide_page_fits_in_the_report():
    """Chromium shows an HTML result of the report (a data: URI, base64) only below 2 MB."""
    page = volcano_page(synthetic_genome_wide(), PALETTE, "healthy", "lesional")
    data_uri_bytes = len("data:text/html;charset=utf8;filename=rnaseq_volcano.html;base64,") + 4 * -(-len(page.encode()) // 3)
    assert data_uri_bytes < 2 * 1024 * 1024, data_uri_bytes


# --------------------------------------------------------------------------- in Chromium


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait_until(driver, "return document.body && document.body.dataset.ready === 'true'")


def tooltip(driver) -> dict[str, str]:
    """The tooltip as shown: its title, then each 'key: value' line."""
    box = driver.find_element("id", "tooltip")
    if not box.is_displayed():
        return {}
    lines = box.text.splitlines()
    return {"name": lines[0], **dict(line.split(": ", 1) for line in lines[1:])}


def hover_on(driver, name: str) -> dict[str, str]:
    """Put the mouse on the point of ``name`` (where the page drew it) and read the tooltip."""
    index = driver.execute_script("return fibroskinFigure.find(arguments[0])", name)
    assert index >= 0, name
    position = driver.execute_script("return fibroskinFigure.screenPosition(arguments[0])", index)
    hover(driver, driver.find_element("id", "plot-canvas"), position["x"], position["y"])
    return tooltip(driver)


def test_hovering_the_volcano_and_ma_pages_shows_the_gene_and_its_numbers(run, results):
    table = results.set_index("symbol", drop=False)
    top = results.iloc[results["pvalue"].argmin()]  # the gene drawn highest: alone at the top
    with chromium() as driver:
        for figure in ("volcano", "ma"):
            open_page(driver, (run / f"results/{CONTRAST}/figures/rnaseq_{figure}.html").as_uri())
            for gene in ("TGFB1", "COL1A1", top["symbol"]):
                shown = hover_on(driver, gene)
                assert shown == {"name": gene, **expected_tooltip(table.loc[gene])}, (figure, gene)
            # away from every point: no tooltip
            hover(driver, driver.find_element("id", "plot-canvas"), 70, 30)
            assert tooltip(driver) == {}
            # nothing was fetched: the page holds everything it shows
            assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_searching_a_gene_by_name(run, results):
    from selenium.webdriver.common.keys import Keys

    row = results.set_index("symbol", drop=False).loc["COL3A1"]
    with chromium() as driver:
        open_page(driver, (run / f"results/{CONTRAST}/figures/rnaseq_volcano.html").as_uri())
        search = driver.find_element("id", "search")
        search.send_keys("col3a1", Keys.ENTER)  # any case
        assert tooltip(driver) == {"name": "COL3A1", **expected_tooltip(row)}
        search.clear()
        search.send_keys(row["gene"], Keys.ENTER)  # or the gene ID
        assert tooltip(driver)["name"] == "COL3A1"
        search.clear()
        search.send_keys("COL1", Keys.ENTER)
        status = driver.find_element("id", "search-status").text
        assert status.startswith("no gene 'COL1'; did you mean ") and "COL1A1" in status and "COL1A2" in status


def test_hovering_the_pca_page_shows_the_sample_and_its_group(run):
    vst = read_tsv(run / "results/rnaseq/vst.tsv").drop(columns="symbol")
    coordinates, _ = pca_coordinates(vst)
    with chromium() as driver:
        open_page(driver, (run / "results/figures/rnaseq_pca.html").as_uri())
        for sample, group, batch in (("L03", "lesional", "run1"), ("H05", "healthy", "run2")):
            assert hover_on(driver, sample) == {
                "name": sample, "sample": sample, "condition": group, "batch": batch,
                "PC1": significant_text(coordinates.at[sample, "PC1"]),
                "PC2": significant_text(coordinates.at[sample, "PC2"]),
            }


def test_the_report_embeds_the_interactive_volcano(run, results, tmp_path):
    """In the Snakemake report, the page opens in the report's own iframe and answers a hover."""
    workdir = tmp_path / "run"
    shutil.copytree(run, workdir, symlinks=True)
    run_workflow(workdir, "--report", "results/report.html")
    path = f"results/{CONTRAST}/figures/rnaseq_volcano.html"
    with chromium() as driver:
        driver.get((workdir / "results/report.html").as_uri())
        wait_until(driver, "return typeof app !== 'undefined' && typeof results !== 'undefined'")
        assert driver.execute_script("return results[arguments[0]].mime_type", path) == "text/html"
        # what the result's view button does
        driver.execute_script(
            "app.setView({content: 'html', contentPath: results[arguments[0]].data_uri, resultPath: arguments[0]})", path
        )
        driver.switch_to.frame(wait_until(driver, "return document.querySelector('iframe')"))
        wait_until(driver, "return document.body && document.body.dataset.ready === 'true'")
        shown = hover_on(driver, "TGFB1")
        assert shown == {"name": "TGFB1", **expected_tooltip(results.set_index("symbol", drop=False).loc["TGFB1"])}
