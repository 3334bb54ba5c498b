"""The colours of every figure: fixed per condition, colour-blind-safe (Okabe-Ito).

Kept apart from :mod:`fibroskin.plots.theme` (matplotlib) so that the interactive pages,
which draw in the browser, use the same colours without importing matplotlib.
"""

from __future__ import annotations

from typing import Iterable

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


def condition_palette(reference: str, target: str, others: Iterable[str] = ()) -> dict[str, str]:
    """Fixed colours: reference level blue, target level vermillion, others after them."""
    palette = {reference: OKABE_ITO["blue"], target: OKABE_ITO["vermillion"]}
    spare = [OKABE_ITO[name] for name in ("bluish_green", "orange", "reddish_purple", "sky_blue", "yellow")]
    for level in sorted(set(others) - set(palette)):
        palette[level] = spare[(len(palette) - 2) % len(spare)]
    return palette
