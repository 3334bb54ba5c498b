"""One look for every figure: seaborn's theme, colour-blind-safe palette, journal sizes.

The colours (:mod:`fibroskin.plots.palette`, re-exported here) are fixed per level of a
contrast column across all figures of a run, so a reader never has to re-learn the legend.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from cycler import cycler  # noqa: E402

from fibroskin.plots.palette import (  # noqa: E402, F401 - the theme's colours, used from here by the figures
    OKABE_ITO,
    SPARE_LEVEL_COLOURS,
    condition_palette,
    level_palette,
    run_palette,
)
from fibroskin.tables import atomic_path  # noqa: E402

#: Figure widths in inches: one and two journal columns.
SINGLE_COLUMN = 3.5
DOUBLE_COLUMN = 7.1

#: Output formats written when the config does not choose.
DEFAULT_FORMATS = ("svg", "png", "pdf")


#: The rcParams of seaborn 0.13's ``set_theme(context="paper", style="ticks",
#: font_scale=1.0)``: its "ticks" axes style, "paper" plotting context and "deep" palette,
#: written out so a figure job does not import seaborn (over a second of start-up, most of
#: a small figure's cost). ``tests/test_rnaseq_plots.py`` checks them against seaborn's.
#: Left out: seaborn's default colour map ``image.cmap = "rocket"`` (registered only by
#: importing seaborn); every image of ours names its colour map.
SEABORN_PAPER_TICKS = {
    # axes_style("ticks")
    "axes.axisbelow": True, "axes.edgecolor": ".15", "axes.facecolor": "white", "axes.grid": False,
    "axes.labelcolor": ".15", "axes.spines.bottom": True, "axes.spines.left": True,
    "axes.spines.right": True, "axes.spines.top": True, "figure.facecolor": "white",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "grid.color": ".8", "grid.linestyle": "-", "lines.solid_capstyle": "round",
    "patch.edgecolor": "w", "patch.force_edgecolor": True, "text.color": ".15", "xtick.bottom": True,
    "xtick.color": ".15", "xtick.direction": "out", "xtick.top": False, "ytick.color": ".15",
    "ytick.direction": "out", "ytick.left": True, "ytick.right": False,
    # plotting_context("paper", font_scale=1.0): the "notebook" sizes scaled by 0.8
    "axes.labelsize": 12 * 0.8, "axes.linewidth": 1.25 * 0.8, "axes.titlesize": 12 * 0.8,
    "font.size": 12 * 0.8, "grid.linewidth": 1 * 0.8, "legend.fontsize": 11 * 0.8,
    "legend.title_fontsize": 12 * 0.8, "lines.linewidth": 1.5 * 0.8, "lines.markersize": 6 * 0.8,
    "patch.linewidth": 1 * 0.8, "xtick.labelsize": 11 * 0.8, "xtick.major.size": 6 * 0.8,
    "xtick.major.width": 1.25 * 0.8, "xtick.minor.size": 4 * 0.8, "xtick.minor.width": 1 * 0.8,
    "ytick.labelsize": 11 * 0.8, "ytick.major.size": 6 * 0.8, "ytick.major.width": 1.25 * 0.8,
    "ytick.minor.size": 4 * 0.8, "ytick.minor.width": 1 * 0.8,
    # color_palette("deep")
    "axes.prop_cycle": cycler("color", [
        "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3",
        "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd",
    ]),
}


def set_theme() -> None:
    """Apply the project's theme, seaborn's "paper"/"ticks" look (call before drawing any figure)."""
    matplotlib.rcParams.update(SEABORN_PAPER_TICKS)
    matplotlib.rcParams.update({
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "fibroskin",  # stable SVG element IDs across runs
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "figure.dpi": 100,
        "savefig.dpi": 300,
        "savefig.bbox": "tight",
        "font.family": "DejaVu Sans",
        # Titles sit a fixed pad above their axes. Left to matplotlib, every draw of
        # every titled panel re-measures all tick labels to place its title, half the
        # cost of drawing a multi-panel figure; nothing of ours is drawn above an axes.
        "axes.titley": 1.0,
    })


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def count_tick_label(value: float, _position: int | None = None) -> str:
    """Tick label for a log axis of counts: 0.5, 1, 20, 5000, then 2×10⁴, 10⁵.

    Short enough for a narrow panel. Powers of ten are written with Unicode superscripts
    (DejaVu Sans has them) rather than mathtext, whose parser costs more than the rest
    of drawing a panel's ticks.
    """
    if not math.isfinite(value) or value <= 0:
        return ""
    if 1e-3 <= value < 1e4:
        return f"{value:g}"
    exponent = int(math.floor(math.log10(value) + 1e-9))
    mantissa = round(value / 10**exponent, 6)
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa:g}×{power}"


def save_figure(figure: plt.Figure, paths: Sequence[str | Path]) -> None:
    """Write ``figure`` to every path (format from the suffix), without timestamps.

    Each file is written to a temporary name in its directory and renamed, so an
    interrupted run never leaves a half-written figure behind.
    """
    # Lay out and measure once: every format then draws the same frozen layout, which
    # also keeps the SVG, PNG and PDF of one figure identical in size and margins.
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    bounding_box = figure.get_tightbbox().padded(plt.rcParams["savefig.pad_inches"])
    for path in paths:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lstrip(".").lower()
        metadata: dict[str, object] = {}
        if suffix == "svg":
            metadata = {"Date": None, "Creator": "fibroskin"}
        elif suffix == "pdf":
            metadata = {"CreationDate": None, "ModDate": None, "Creator": "fibroskin", "Producer": "fibroskin"}
        elif suffix == "png":
            metadata = {"Software": "fibroskin"}
        with atomic_path(path) as temporary:  # removed again if savefig fails
            figure.savefig(temporary, format=suffix, metadata=metadata, bbox_inches=bounding_box)
    plt.close(figure)
