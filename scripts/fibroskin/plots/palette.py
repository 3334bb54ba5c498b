"""The colours of every figure: fixed per level of a contrast column across a run (Okabe-Ito).

Colours are fixed per level of a contrast column across all figures of a run
(:func:`level_palette`): the first configured level (the reference, e.g. healthy) is blue,
the first contrast's target (a family's last level, e.g. lesional) vermillion, every other
level the next Okabe-Ito colour in the order the config and then the sample sheet list
them. Healthy skin is then one colour in every pair's figure, the PCA and the heatmaps, so
a reader never has to re-learn the legend.

Kept apart from :mod:`fibroskin.plots.theme` (matplotlib) so that the interactive pages,
which draw in the browser, use the same colours without importing matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

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
