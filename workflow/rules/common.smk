import math
import os
import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from fibroskin.benchmarks import benchmark_jobs
from fibroskin.errors import InputErrors
from fibroskin.validate import check_config, describe_schema_error, validate_run

try:
    # Unknown keys and wrong types first, one line each; then Snakemake's schema
    # validation (which fills defaults); then every check of the input files.
    check_config(config)
    validate(config, schema="../schemas/config.schema.yaml")
    DESIGN = validate_run(config)
except InputErrors as problems:
    # Refuse before any job starts, with every problem at once and no traceback.
    sys.stderr.write(f"{problems}\n")
    sys.exit(1)
except WorkflowError as error:
    sys.stderr.write(
        f"fibroskin: the config is not valid: {describe_schema_error(error)}\n"
    )
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
    return [str(path) for path in DESIGN.qpcr.cq_tables] if DESIGN.qpcr else []


def plate_map():
    return [str(DESIGN.qpcr.plate_map)] if DESIGN.qpcr and DESIGN.qpcr.plate_map else []


def rnaseq_input_files(wildcards):
    """Every file the RNA-seq input is read from: one table or one file per sample, and helpers."""
    from fibroskin.rnaseq_input import sample_files

    if DESIGN.rnaseq is None:
        return {}
    settings = DESIGN.rnaseq
    files = sample_files(DESIGN)
    counts = [str(path) for path in files.values()] if files else [str(settings.counts)]
    inputs = {"counts": counts}
    for key in ("lengths", "tx2gene", "annotation"):
        if getattr(settings, key) is not None:
            inputs[key] = str(getattr(settings, key))
    return inputs


def rnaseq_contrasts_fan_out():
    """Whether each RNA-seq contrast is its own job (rule rnaseq_contrast, from the saved
    fit) rather than tested in the fit's job: several contrasts of a large table."""
    from fibroskin.rnaseq_steps import contrasts_fan_out

    if DESIGN.rnaseq is None:
        return False
    return contrasts_fan_out(len(CONTRASTS), DESIGN.facts.get("rnaseq_cells", 0))


def rnaseq_fit_outputs():
    """The fit's outputs: the saved fit when contrasts fan out, else every contrast's results."""
    if rnaseq_contrasts_fan_out():
        return {"fit": "results/rnaseq/deseq_fit.pkl"}
    return {
        "results": expand(
            "results/{contrast}/rnaseq/deseq2_results.tsv", contrast=CONTRASTS
        ),
        "markers": expand(
            "results/{contrast}/rnaseq/marker_results.tsv", contrast=CONTRASTS
        ),
    }


def rnaseq_length_output():
    """``results/rnaseq/lengths.tsv`` when the input calls for length offsets (tximport's
    countsFromAbundance "no", RSEM genes.results, or ``rnaseq.lengths``): rnaseq_import
    writes it and rnaseq_fit applies it as DESeq2's normalization factors."""
    if DESIGN.facts.get("rnaseq_lengths"):
        return {"lengths": "results/rnaseq/lengths.tsv"}
    return {}


def mem_mb_for(input, per_input_mb, base_mb=500):
    """Memory request growing with the input: base plus a multiple of the input's size."""
    size_mb = sum(os.path.getsize(path) for path in input if os.path.exists(path)) / 1e6
    return int(base_mb + math.ceil(per_input_mb * size_mb))


def threads_for(input, mb_per_thread, max_threads=8):
    """Threads growing with the input: one per ``mb_per_thread`` MB, at least one.

    A small table is done before a second thread would pay for itself, and a job
    asking for one thread leaves the other cores to the jobs beside it.
    """
    size_mb = sum(os.path.getsize(path) for path in input if os.path.exists(path)) / 1e6
    return max(1, min(max_threads, math.ceil(size_mb / mb_per_thread)))


def runtime_for(input, minutes_per_mb, base_minutes=10):
    """Run time request (minutes) growing with the input: base plus minutes per MB of input."""
    size_mb = sum(os.path.getsize(path) for path in input if os.path.exists(path)) / 1e6
    return int(base_minutes + math.ceil(minutes_per_mb * size_mb))


def caption_rows(path):
    """Key numbers of a finished table for report captions (empty before the run)."""
    if not os.path.exists(path):
        return []
    from fibroskin.tables import read_tsv

    return read_tsv(path).to_dict("records")


def contrast_spec(wildcards):
    return spec_of(DESIGN.contrast(wildcards.contrast))


def spec_of(contrast):
    """A contrast as rule params (plain values), rebuilt by the scripts as ``Contrast(**spec)``."""
    return {
        "name": contrast.name,
        "column": contrast.column,
        "reference": contrast.reference,
        "target": contrast.target,
        "family": contrast.family,
        "family_levels": list(contrast.family_levels),
        # the RNA-seq test of the contrast (R's results()): coefficient, list, weights, threshold
        "coefficient": contrast.coefficient,
        "numerator": list(contrast.numerator),
        "denominator": list(contrast.denominator),
        "list_values": list(contrast.list_values),
        "weights": [list(w) if isinstance(w, tuple) else w for w in contrast.weights],
        "lfc_threshold": contrast.lfc_threshold,
        "alt_hypothesis": contrast.alt_hypothesis,
    }


def families():
    """Names of the configured ``levels:`` families, in config order."""
    return list(
        dict.fromkeys(c.family for c in DESIGN.contrasts if c.family is not None)
    )


def family_pattern():
    """Wildcard constraint matching exactly the family names (none: matches nothing)."""
    return "|".join(re.escape(name) for name in families()) or "(?!)"


def family_pairs(wildcards):
    """Names of the pairwise contrasts of the family ``wildcards.family``, in config order."""
    return [c.name for c in DESIGN.contrasts if c.family == wildcards.family]


def family_pair_files(wildcards, table):
    return [f"results/{pair}/qpcr/{table}.tsv" for pair in family_pairs(wildcards)]


def family_pair_specs(wildcards):
    return [spec_of(DESIGN.contrast(pair)) for pair in family_pairs(wildcards)]


def figure_outputs(stem, caption, category):
    """One path per configured format; the preferred one is flagged for the report."""
    shown = "svg" if "svg" in FIGURE_FORMATS else FIGURE_FORMATS[0]
    paths = [f"{stem}.{ext}" for ext in FIGURE_FORMATS]
    flagged = report(f"{stem}.{shown}", caption=caption, category=category)
    return [flagged if path == f"{stem}.{shown}" else path for path in paths]


def summary_inputs(wildcards):
    inputs = {}
    if DESIGN.qpcr is not None:
        inputs["qpcr"] = f"results/{wildcards.contrast}/qpcr/marker_stats.tsv"
    if DESIGN.rnaseq is not None:
        inputs["rnaseq"] = f"results/{wildcards.contrast}/rnaseq/marker_results.tsv"
    return inputs


def score_inputs(wildcards):
    inputs = {}
    if DESIGN.qpcr is not None:
        inputs["delta_cq"] = "results/qpcr/delta_cq.tsv"
    if DESIGN.rnaseq is not None:
        inputs["vst"] = "results/rnaseq/vst.tsv"
    return inputs


def both_assays():
    return DESIGN.qpcr is not None and DESIGN.rnaseq is not None


def all_outputs():
    outputs = []
    if DESIGN.qpcr is not None:
        outputs += expand(
            "results/qpcr/{table}.tsv",
            table=[
                "wells",
                "plate_offsets",
                "instrument_values",
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
        outputs += expand(
            "results/{family}/figures/qpcr_family_markers.{ext}",
            family=families(),
            ext=FIGURE_FORMATS,
        )
    if DESIGN.rnaseq is not None:
        outputs += expand(
            "results/rnaseq/{table}.tsv",
            table=["normalized_counts", "vst", "size_factors"],
        )
        outputs += expand(
            "results/{contrast}/rnaseq/{table}.tsv",
            contrast=CONTRASTS,
            table=["deseq2_results", "marker_results"],
        )
        outputs += expand(
            "results/{contrast}/figures/rnaseq_{figure}.{ext}",
            contrast=CONTRASTS,
            figure=["volcano", "ma", "marker_heatmap", "marker_counts"],
            ext=FIGURE_FORMATS,
        )
        outputs += expand(
            "results/figures/rnaseq_{figure}.{ext}",
            figure=["pca", "sample_distances"],
            ext=FIGURE_FORMATS,
        )
        # Interactive pages (hover, search, zoom) of the volcano, MA and PCA plots.
        outputs += expand(
            "results/{contrast}/figures/rnaseq_{figure}.html",
            contrast=CONTRASTS,
            figure=["volcano", "ma"],
        )
        outputs += ["results/figures/rnaseq_pca.html"]
    outputs += expand("results/{contrast}/summary.tsv", contrast=CONTRASTS)
    outputs += ["results/score/profibrotic_score.tsv"]
    outputs += expand("results/{contrast}/score/score_test.tsv", contrast=CONTRASTS)
    outputs += expand(
        "results/{contrast}/figures/profibrotic_score.{ext}",
        contrast=CONTRASTS,
        ext=FIGURE_FORMATS,
    )
    if both_assays():
        outputs += expand(
            "results/{contrast}/concordance/{table}.tsv",
            contrast=CONTRASTS,
            table=["markers", "samples", "sample_correlation"],
        )
        outputs += expand(
            "results/{contrast}/figures/{figure}.{ext}",
            contrast=CONTRASTS,
            figure=[
                "concordance_markers",
                "concordance_samples",
                "profibrotic_score_qpcr_vs_rnaseq",
            ],
            ext=FIGURE_FORMATS,
        )
    return outputs


def report_context():
    """What the report's landing page shows: cohort, contrasts, findings, software."""
    from importlib.metadata import PackageNotFoundError, version

    from fibroskin.tables import read_tsv

    sheet = DESIGN.samples
    contrasts = []
    for contrast in DESIGN.contrasts:
        levels = sheet[contrast.column].value_counts()
        summary_path = f"results/{contrast.name}/summary.tsv"
        verdicts = (
            read_tsv(summary_path)["verdict"].tolist()
            if os.path.exists(summary_path)
            else []
        )
        contrasts.append(
            {
                "name": contrast.name,
                "column": contrast.column,
                "reference": contrast.reference,
                "target": contrast.target,
                "n_reference": int(levels.get(contrast.reference, 0)),
                "n_target": int(levels.get(contrast.target, 0)),
                "verdicts": verdicts,
            }
        )
    software = {}
    for package in ("fibroskin", "snakemake", "pydeseq2", "pandas", "numpy", "scipy"):
        try:
            software[package] = version(package)
        except PackageNotFoundError:
            software[package] = "not installed"
    return {
        "n_samples": len(sheet),
        "groups": sheet[DESIGN.contrasts[0].column]
        .value_counts()
        .sort_index()
        .to_dict(),
        "contrasts": contrasts,
        "assays": [
            name
            for name, section in (("qPCR", DESIGN.qpcr), ("RNA-seq", DESIGN.rnaseq))
            if section is not None
        ],
        "reference_genes": list(DESIGN.qpcr.reference_genes) if DESIGN.qpcr else [],
        "rnaseq_design": DESIGN.rnaseq.design if DESIGN.rnaseq else "",
        "rnaseq_engine": DESIGN.rnaseq.engine if DESIGN.rnaseq else "",
        "markers": DESIGN.markers,
        "software": software,
    }


# The report's landing page can only see the config: give it the run's facts there.
config["fibroskin_report"] = report_context()
