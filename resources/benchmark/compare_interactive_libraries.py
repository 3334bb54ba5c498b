"""Why the interactive figures are a hand-written canvas page: plotly, bokeh and fibroskin's page compared.

One seeded synthetic DESeq2 table of 60,000 genes (Ensembl-like IDs, two thirds with a
symbol) drawn as a volcano plot with a hover tooltip (symbol, baseMean, log2FC, padj) by

- plotly (``Scattergl``, WebGL; plotly.js inlined: ``include_plotlyjs=True``),
- bokeh (``output_backend="webgl"``, ``HoverTool``, a ``TextInput`` for the gene search;
  BokehJS inlined: ``resources=INLINE``),
- fibroskin (:func:`fibroskin.plots.interactive.volcano_page`).

For each page: the file size; the size of the ``data:`` URI the Snakemake report makes of it;
whether Chromium shows the page inside an iframe with that URI (as the report does; Chromium
refuses ``data:`` URIs above 2 MB); seconds to write the page in Python (libraries already imported); seconds from
navigation to the drawn plot in headless Chromium (median of 3 loads, the page opened as a
file). Writes ``interactive_libraries.tsv`` beside this script.

Needs plotly, bokeh and selenium (not fibroskin's dependencies) and Debian's chromium and
chromium-driver::

    pip install plotly bokeh selenium && python resources/benchmark/compare_interactive_libraries.py
"""

from __future__ import annotations

import base64
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
N_GENES = 60_000
CHROMIUM_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
                  "--no-first-run --disable-sync --window-size=1200,900").split()


def synthetic_results(n: int = N_GENES, seed: int = 5) -> pd.DataFrame:
    """A DESeq2-like results table: IDs, symbols, baseMean, log2FoldChange, pvalue, padj."""
    rng = np.random.default_rng(seed)
    ids = [f"ENSG{value:011d}.{version_}" for value, version_ in
           zip(np.sort(rng.choice(300_000, n, replace=False)), rng.integers(1, 20, n))]
    symbols = [f"GENE{index}" if index % 3 else gene for index, gene in enumerate(ids)]
    pvalue = rng.uniform(size=n) ** 3
    order = np.argsort(pvalue)
    ranked = pvalue[order] * n / np.arange(1, n + 1)
    padj = np.empty(n)
    padj[order] = np.minimum(1, np.minimum.accumulate(ranked[::-1])[::-1])
    return pd.DataFrame({"gene": ids, "symbol": symbols, "baseMean": rng.lognormal(4, 2, n),
                         "log2FoldChange": rng.normal(0, 1, n), "pvalue": pvalue, "padj": padj})


def plotly_page(results: pd.DataFrame) -> str:
    import plotly.graph_objects as go

    figure = go.Figure(go.Scattergl(
        x=results["log2FoldChange"], y=-np.log10(results["pvalue"]), mode="markers",
        customdata=results[["symbol", "baseMean", "log2FoldChange", "padj"]].to_numpy(),
        hovertemplate="%{customdata[0]}<br>baseMean %{customdata[1]:.3g}<br>log2FC %{customdata[2]:.3f}"
                      "<br>padj %{customdata[3]:.3g}<extra></extra>",
    ))
    return figure.to_html(include_plotlyjs=True, full_html=True)


def bokeh_page(results: pd.DataFrame) -> str:
    from bokeh.embed import file_html
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, CustomJS, HoverTool, TextInput
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    source = ColumnDataSource({"x": results["log2FoldChange"].to_numpy(), "y": -np.log10(results["pvalue"].to_numpy()),
                               "symbol": results["symbol"].tolist(), "baseMean": results["baseMean"].to_numpy(),
                               "padj": results["padj"].to_numpy()})
    plot = figure(output_backend="webgl", width=1000, height=600)
    plot.scatter("x", "y", source=source, size=3)
    plot.add_tools(HoverTool(tooltips=[("gene", "@symbol"), ("baseMean", "@baseMean{0.000a}"), ("log2FC", "@x{0.000}"),
                                       ("padj", "@padj")]))
    search = TextInput(title="Find gene")
    search.js_on_change("value", CustomJS(args={"source": source}, code="""
        const i = source.data.symbol.indexOf(cb_obj.value); source.selected.indices = i >= 0 ? [i] : [];"""))
    return file_html(column(search, plot), resources=INLINE, title="volcano")


def fibroskin_page(results: pd.DataFrame) -> str:
    from fibroskin.plots.interactive import volcano_page
    from fibroskin.plots.theme import condition_palette

    return volcano_page(results, condition_palette("healthy", "lesional"), "healthy", "lesional", None, 0.05, "synthetic")


READY = {
    "plotly": "return !!(window.Plotly && document.querySelector('.js-plotly-plot .gl-container canvas, "
              ".js-plotly-plot canvas') && document.querySelector('.js-plotly-plot')._fullLayout)",
    "bokeh": "return !!(window.Bokeh && Bokeh.documents.length && document.querySelector('.bk-Figure, .bk-Column'))",
    "fibroskin": "return document.body && document.body.dataset.ready === 'true'",
}


def seconds_to_draw(driver, path: Path, library: str, loads: int = 3) -> float:
    times = []
    for _ in range(loads):
        driver.get("about:blank")
        driver.get(path.as_uri())
        start = time.perf_counter()
        while not driver.execute_script(READY[library]):
            time.sleep(0.01)
            if time.perf_counter() - start > 60:
                raise TimeoutError(library)
        # navigation start to now, in the page's own clock
        times.append(driver.execute_script("return performance.now()") / 1000)
    return statistics.median(times)


def shows_in_report_iframe(driver, page: Path, work: Path, library: str) -> bool:
    uri = "data:text/html;charset=utf8;filename=figure.html;base64," + base64.b64encode(page.read_bytes()).decode()
    outer = work / f"{library}_report.html"
    outer.write_text(f'<html><body><iframe id="figure" src="{uri}" style="width:100%;height:800px"></iframe></body></html>')
    driver.get(outer.as_uri())
    time.sleep(3)
    driver.switch_to.frame(driver.find_element("id", "figure"))
    try:
        return bool(driver.execute_script(READY[library]))
    finally:
        driver.switch_to.default_content()


def main() -> int:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    results = synthetic_results()
    # imported before the clock starts: write_s is the page alone
    import bokeh.plotting  # noqa: F401
    import plotly.graph_objects  # noqa: F401

    import fibroskin.plots.interactive  # noqa: F401

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        for library, make in (("plotly", plotly_page), ("bokeh", bokeh_page), ("fibroskin", fibroskin_page)):
            started = time.perf_counter()
            text = make(results)
            write_s = time.perf_counter() - started
            path = work / f"{library}.html"
            path.write_text(text, encoding="utf-8")
            size = path.stat().st_size
            uri_size = len("data:text/html;charset=utf8;filename=figure.html;base64,") + 4 * ((size + 2) // 3)
            rows.append({
                "library": library,
                "version": version("plotly" if library == "plotly" else "bokeh" if library == "bokeh" else "fibroskin"),
                "genes": len(results),
                "file_mb": round(size / 1e6, 2),
                "report_data_uri_mb": round(uri_size / 1e6, 2),
                "shows_in_report_iframe": shows_in_report_iframe(driver, path, work, library),
                "write_s": round(write_s, 2),
                "draw_s": round(seconds_to_draw(driver, path, library), 2),
            })
            print(rows[-1], file=sys.stderr)
    chromium = driver.capabilities.get("browserVersion", "")
    driver.quit()
    table = pd.DataFrame(rows)
    table["chromium"] = chromium
    table.to_csv(HERE / "interactive_libraries.tsv", sep="\t", index=False)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
