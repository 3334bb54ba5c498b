"""One look for every figure: seaborn theme, colour-blind-safe palette, journal sizes.

Colours are fixed per level of a contrast column across all figures of a run
(:func:`level_palette`): the first configured level (the reference, e.g. healthy) is blue,
the first contrast's target (a family's last level, e.g. lesional) vermillion, every other
level the next Okabe-Ito colour in the order the config and then the sample sheet list
them. Healthy skin is then one colour in every pair's figure, the PCA and the heatmaps, so
a reader never has to re-learn the legend.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from fibroskin.tables import atomic_path  # noqa: E402

if TYPE_CHECKING:
    from fibroskin.config import Contrast, Design

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


#: Colours of the levels after the first two, in the order the levels are met.
SPARE_LEVEL_COLOURS = tuple(
    OKABE_ITO[name] for name in ("bluish_green", "orange", "reddish_purple", "sky_blue", "yellow")
)


def condition_palette(reference: str, target: str, others: Iterable[str] = ()) -> dict[str, str]:
    """Colours of one contrast on its own: reference blue, target vermillion, others after them.

    Figures of a workflow run take :func:`level_palette` instead, which keeps each level's
    colour across all the run's contrasts.
    """
    palette = {reference: OKABE_ITO["blue"], target: OKABE_ITO["vermillion"]}
    for level in sorted(set(others) - set(palette)):
        palette[level] = SPARE_LEVEL_COLOURS[(len(palette) - 2) % len(SPARE_LEVEL_COLOURS)]
    return palette


def level_palette(contrasts: Sequence["Contrast"], column: str, sheet_levels: Iterable[str] = ()) -> dict[str, str]:
    """One colour per level of ``column``, the same in every figure of a run.

    Parameters
    ----------
    contrasts
        The run's contrasts in config order (a ``levels:`` family expanded to its pairs).
    column
        The sample-sheet column whose levels are coloured.
    sheet_levels
        The column's values in sample-sheet order; levels no contrast names are coloured
        after the configured ones, in order of first appearance (blank cells are skipped).

    Returns
    -------
    dict
        Level -> hex colour, in the order the config lists the levels (a family's order,
        else each contrast's reference then target), then the sheet's. The first level is
        Okabe-Ito blue and the first contrast's target (a family's last level) vermillion,
        so a two-group run keeps reference blue and target vermillion, and in a family
        ``[healthy, non-lesional, lesional]`` lesional is vermillion as in the pair
        ``lesional_vs_healthy``; the other levels take bluish green, orange, reddish purple,
        sky blue and yellow, in order (repeating after seven levels).
    """
    on_column = [contrast for contrast in contrasts if contrast.column == column]
    configured = [level for contrast in on_column for level in (contrast.family_levels or (contrast.reference, contrast.target))]
    order = list(dict.fromkeys([*configured, *(str(level) for level in sheet_levels if str(level) != "")]))
    if not order:
        return {}
    colours = {order[0]: OKABE_ITO["blue"]}
    if on_column:
        lead = on_column[0]
        colours.setdefault(lead.family_levels[-1] if lead.family_levels else lead.target, OKABE_ITO["vermillion"])
    spare = 0
    for level in order:
        if level not in colours:
            colours[level] = SPARE_LEVEL_COLOURS[spare % len(SPARE_LEVEL_COLOURS)]
            spare += 1
    return {level: colours[level] for level in order}


def run_palette(design: "Design", contrast: "Contrast | None" = None, column: str | None = None) -> dict[str, str]:
    """The run's colours for the levels of a contrast's column (default: the first contrast's).

    :func:`level_palette` over the design's contrasts and sample sheet. With ``contrast``,
    its reference and target come first in the returned order, so figures of that contrast
    place the reference group first as before; the colours do not depend on the contrast.
    """
    column = column or (contrast.column if contrast is not None else design.contrasts[0].column)
    sheet = design.samples
    levels = sheet[column].tolist() if column in sheet else []
    palette = level_palette(design.contrasts, column, levels)
    if contrast is None:
        return palette
    first = {level: palette[level] for level in (contrast.reference, contrast.target) if level in palette}
    return {**first, **palette}


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
