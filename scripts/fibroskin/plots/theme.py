"""One look for every figure: seaborn theme, colour-blind-safe palette, journal sizes.

Colours are fixed per condition across all figures of a run: the contrast's reference
level is always grey-blue, its target level always vermillion (Okabe-Ito palette), so a
reader never has to re-learn the legend.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from fibroskin.tables import atomic_path  # noqa: E402

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "reddish_purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: Figure widths in inches: one and two journal columns.
SINGLE_COLUMN = 3.5
DOUBLE_COLUMN = 7.1

#: Output formats written when the config does not choose.
DEFAULT_FORMATS = ("svg", "png", "pdf")


def set_theme() -> None:
    """Apply the project's seaborn theme (call before drawing any figure)."""
    sns.set_theme(
        context="paper",
        style="ticks",
        font_scale=1.0,
        rc={
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
        },
    )


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


def condition_palette(reference: str, target: str, others: Iterable[str] = ()) -> dict[str, str]:
    """Fixed colours: reference level blue, target level vermillion, others after them."""
    palette = {reference: OKABE_ITO["blue"], target: OKABE_ITO["vermillion"]}
    spare = [OKABE_ITO[name] for name in ("bluish_green", "orange", "reddish_purple", "sky_blue", "yellow")]
    for level in sorted(set(others) - set(palette)):
        palette[level] = spare[(len(palette) - 2) % len(spare)]
    return palette


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
