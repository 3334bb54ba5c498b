"""Where the workflow's own files are: the checkout the package is installed from.

fibroskin is installed from a clone (``pip install -e .``); the Snakefile, the bundled
example and the config templates live beside the package in that clone, not inside it.
"""

from __future__ import annotations

from pathlib import Path

#: Root of the clone holding this package (``scripts/fibroskin`` -> the clone).
ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
EXAMPLE = ROOT / "resources" / "example"
EXAMPLE_CONFIG = ROOT / "config" / "config.yaml"
EXAMPLE_SHEET = ROOT / "config" / "samples.tsv"


class CheckoutMissing(RuntimeError):
    """The workflow files are not beside the installed package."""


def require_workflow() -> Path:
    """The Snakefile of the clone fibroskin is installed from.

    Raises
    ------
    CheckoutMissing
        When the package was installed without its clone (a wheel, not ``pip install -e .``).
    """
    if not SNAKEFILE.exists():
        raise CheckoutMissing(
            f"the workflow files are not beside the installed package (no {SNAKEFILE}); "
            "install fibroskin from a clone with `pip install -e .`"
        )
    return SNAKEFILE
