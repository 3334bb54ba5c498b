import math
import os
import sys

from snakemake.utils import validate

from fibroskin.errors import InputErrors
from fibroskin.validate import validate_run

validate(config, schema="../schemas/config.schema.yaml")

try:
    DESIGN = validate_run(config)
except InputErrors as problems:
    # Refuse before any job starts, with every problem at once and no traceback.
    sys.stderr.write(f"{problems}\n")
    sys.exit(1)

validate(
    DESIGN.samples.drop(columns="__line__"), schema="../schemas/samples.schema.yaml"
)

for note in DESIGN.notes:
    logger.info(f"fibroskin: {note}")

CONTRASTS = [contrast.name for contrast in DESIGN.contrasts]
FIGURE_FORMATS = list(DESIGN.figure_formats)


wildcard_constraints:
    contrast="|".join(CONTRASTS),


def cq_tables():
    return [str(path) for path in DESIGN.qpcr.cq_tables]


def plate_map():
    return [str(DESIGN.qpcr.plate_map)] if DESIGN.qpcr.plate_map else []


def mem_mb_for(input, per_input_mb, base_mb=500):
    """Memory request growing with the input: base plus a multiple of the input's size."""
    size_mb = sum(os.path.getsize(path) for path in input if os.path.exists(path)) / 1e6
    return int(base_mb + math.ceil(per_input_mb * size_mb))


def caption_rows(path):
    """Key numbers of a finished table for report captions (empty before the run)."""
    if not os.path.exists(path):
        return []
    from fibroskin.tables import read_tsv

    return read_tsv(path).to_dict("records")


def contrast_spec(wildcards):
    contrast = DESIGN.contrast(wildcards.contrast)
    return {
        "name": contrast.name,
        "column": contrast.column,
        "reference": contrast.reference,
        "target": contrast.target,
    }


def figure_outputs(stem, caption, category):
    """One path per configured format; the preferred one is flagged for the report."""
    shown = "svg" if "svg" in FIGURE_FORMATS else FIGURE_FORMATS[0]
    paths = [f"{stem}.{ext}" for ext in FIGURE_FORMATS]
    flagged = report(f"{stem}.{shown}", caption=caption, category=category)
    return [flagged if path == f"{stem}.{shown}" else path for path in paths]


def all_outputs():
    outputs = []
    if DESIGN.qpcr is not None:
        outputs += expand(
            "results/qpcr/{table}.tsv",
            table=[
                "wells",
                "plate_offsets",
                "efficiency",
                "delta_cq",
                "qc",
                "reference_stability",
                "pairwise_variation",
                "ntc",
                "miqe",
            ],
        )
        if len(DESIGN.qpcr.reference_genes) >= 2:
            outputs += expand(
                "results/figures/qpcr_reference_stability.{ext}", ext=FIGURE_FORMATS
            )
        if DESIGN.facts.get("qpcr_has_standards"):
            outputs += expand(
                "results/figures/qpcr_standard_curves.{ext}", ext=FIGURE_FORMATS
            )
        outputs += expand(
            "results/{contrast}/qpcr/{table}.tsv",
            contrast=CONTRASTS,
            table=["marker_stats", "relative_expression"],
        )
        outputs += expand(
            "results/{contrast}/figures/qpcr_markers.{ext}",
            contrast=CONTRASTS,
            ext=FIGURE_FORMATS,
        )
    return outputs
