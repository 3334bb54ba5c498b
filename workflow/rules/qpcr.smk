rule qpcr_wells:
    input:
        tables=cq_tables(),
        plate_map=plate_map(),
    output:
        wells="results/qpcr/wells.tsv",
        plate_offsets="results/qpcr/plate_offsets.tsv",
        instrument_values="results/qpcr/instrument_values.tsv",
    log:
        "logs/qpcr/wells.log",
    benchmark:
        "benchmarks/qpcr/wells.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=8),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/qpcr_wells.py"


rule qpcr_efficiency:
    input:
        wells="results/qpcr/wells.tsv",
    output:
        efficiency=report(
            "results/qpcr/efficiency.tsv",
            caption="../report/qpcr_efficiency.rst",
            category="QC",
            labels={"table": "qPCR efficiency"},
        ),
    log:
        "logs/qpcr/efficiency.log",
    benchmark:
        "benchmarks/qpcr/efficiency.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=4),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/qpcr_efficiency.py"


rule qpcr_delta_cq:
    input:
        wells="results/qpcr/wells.tsv",
        efficiency="results/qpcr/efficiency.tsv",
    output:
        delta_cq="results/qpcr/delta_cq.tsv",
        qc="results/qpcr/qc.tsv",
    log:
        "logs/qpcr/delta_cq.log",
    benchmark:
        "benchmarks/qpcr/delta_cq.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=8),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/qpcr_delta_cq.py"


rule qpcr_contrast:
    input:
        delta_cq="results/qpcr/delta_cq.tsv",
    output:
        marker_stats="results/{contrast}/qpcr/marker_stats.tsv",
        relative_expression="results/{contrast}/qpcr/relative_expression.tsv",
    log:
        "logs/{contrast}/qpcr_contrast.log",
    benchmark:
        "benchmarks/{contrast}/qpcr_contrast.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=4),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
        # in params so that a changed test or model reruns the contrast
        test=DESIGN.qpcr.test if DESIGN.qpcr else None,
        design=DESIGN.qpcr.design if DESIGN.qpcr else None,
    script:
        "../../scripts/qpcr_contrast.py"


rule qpcr_marker_figure:
    input:
        marker_stats="results/{contrast}/qpcr/marker_stats.tsv",
        relative_expression="results/{contrast}/qpcr/relative_expression.tsv",
    output:
        figures=figure_outputs(
            "results/{contrast}/figures/qpcr_markers",
            caption="../report/qpcr_markers.rst",
            category="qPCR",
        ),
    log:
        "logs/{contrast}/qpcr_marker_figure.log",
    benchmark:
        "benchmarks/{contrast}/qpcr_marker_figure.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
        numbers=lambda wildcards, input: caption_rows(input.marker_stats),
    script:
        "../../scripts/qpcr_marker_figure.py"


rule qpcr_family_figure:
    input:
        marker_stats=lambda wildcards: family_pair_files(wildcards, "marker_stats"),
        relative_expression=lambda wildcards: family_pair_files(
            wildcards, "relative_expression"
        ),
    output:
        figures=figure_outputs(
            "results/{family}/figures/qpcr_family_markers",
            caption="../report/qpcr_family_markers.rst",
            category="qPCR",
        ),
    log:
        "logs/{family}/qpcr_family_figure.log",
    benchmark:
        "benchmarks/{family}/qpcr_family_figure.tsv"
    wildcard_constraints:
        family=family_pattern(),
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        pairs=family_pair_specs,
        numbers=lambda wildcards, input: [
            {"pair": pair, **row}
            for pair, path in zip(family_pairs(wildcards), input.marker_stats)
            for row in caption_rows(path)
        ],
    script:
        "../../scripts/qpcr_family_figure.py"


rule qpcr_reference_stability:
    input:
        wells="results/qpcr/wells.tsv",
        efficiency="results/qpcr/efficiency.tsv",
    output:
        stability="results/qpcr/reference_stability.tsv",
        pairwise_variation="results/qpcr/pairwise_variation.tsv",
    log:
        "logs/qpcr/reference_stability.log",
    benchmark:
        "benchmarks/qpcr/reference_stability.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=4),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        group_column=DESIGN.contrasts[0].column,
    script:
        "../../scripts/qpcr_reference_stability.py"


rule qpcr_reference_stability_figure:
    input:
        wells="results/qpcr/wells.tsv",
        efficiency="results/qpcr/efficiency.tsv",
    output:
        figures=figure_outputs(
            "results/figures/qpcr_reference_stability",
            caption="../report/qpcr_reference_stability.rst",
            category="QC",
        ),
    log:
        "logs/qpcr/reference_stability_figure.log",
    benchmark:
        "benchmarks/qpcr/reference_stability_figure.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/qpcr_reference_stability_figure.py"


rule qpcr_standard_curve_figure:
    input:
        wells="results/qpcr/wells.tsv",
    output:
        figures=figure_outputs(
            "results/figures/qpcr_standard_curves",
            caption="../report/qpcr_standard_curves.rst",
            category="QC",
        ),
    log:
        "logs/qpcr/standard_curve_figure.log",
    benchmark:
        "benchmarks/qpcr/standard_curve_figure.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/qpcr_standard_curve_figure.py"


rule qpcr_miqe:
    input:
        wells="results/qpcr/wells.tsv",
        stability="results/qpcr/reference_stability.tsv",
        pairwise_variation="results/qpcr/pairwise_variation.tsv",
        instrument_values="results/qpcr/instrument_values.tsv",
        qc="results/qpcr/qc.tsv",
        delta_cq="results/qpcr/delta_cq.tsv",
    output:
        miqe=report(
            "results/qpcr/miqe.tsv",
            caption="../report/qpcr_miqe.rst",
            category="QC",
            labels={"table": "MIQE summary"},
        ),
        ntc="results/qpcr/ntc.tsv",
    log:
        "logs/qpcr/miqe.log",
    benchmark:
        "benchmarks/qpcr/miqe.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=4),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/qpcr_miqe.py"
