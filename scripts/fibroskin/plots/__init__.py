"""Figures: one module per figure family, sharing :mod:`fibroskin.plots.theme`."""
