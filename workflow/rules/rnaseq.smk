rule rnaseq_import:
    input:
        unpack(rnaseq_input_files),
    output:
        **rnaseq_length_output(),
        counts="results/rnaseq/counts.tsv",
    log:
        "logs/rnaseq/import.log",
    benchmark:
        "benchmarks/rnaseq/import.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=20, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=0.1),
    script:
        "../../scripts/rnaseq_import.py"


rule rnaseq_fit:
    input:
        **rnaseq_length_output(),
        counts="results/rnaseq/counts.tsv",
    output:
        **rnaseq_fit_outputs(),
        normalized_counts="results/rnaseq/normalized_counts.tsv",
        size_factors="results/rnaseq/size_factors.tsv",
    log:
        "logs/rnaseq/fit.log",
    benchmark:
        "benchmarks/rnaseq/fit.tsv"
    priority: 1
    conda:
        "../envs/fibroskin.yaml"
    threads: lambda wildcards, input: threads_for(input, mb_per_thread=2)
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=60, base_mb=1500),
        runtime=lambda wildcards, input: 10
        + int(mem_mb_for(input, per_input_mb=1, base_mb=0)),
    script:
        "../../scripts/rnaseq_fit.py"


if rnaseq_contrasts_fan_out():

    rule rnaseq_contrast:
        input:
            fit="results/rnaseq/deseq_fit.pkl",
        output:
            results="results/{contrast}/rnaseq/deseq2_results.tsv",
            markers="results/{contrast}/rnaseq/marker_results.tsv",
        log:
            "logs/{contrast}/rnaseq_contrast.log",
        benchmark:
            "benchmarks/{contrast}/rnaseq_contrast.tsv"
        priority: 1
        conda:
            "../envs/fibroskin.yaml"
        threads: 1
        resources:
            mem_mb=lambda wildcards, input: mem_mb_for(
                input, per_input_mb=4, base_mb=1500
            ),
            runtime=lambda wildcards, input: 10
            + int(mem_mb_for(input, per_input_mb=0.1, base_mb=0)),
        params:
            contrast=contrast_spec,
        script:
            "../../scripts/rnaseq_contrast.py"


rule rnaseq_vst:
    input:
        **rnaseq_length_output(),
        counts="results/rnaseq/counts.tsv",
    output:
        vst="results/rnaseq/vst.tsv",
    log:
        "logs/rnaseq/vst.log",
    benchmark:
        "benchmarks/rnaseq/vst.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: lambda wildcards, input: threads_for(input, mb_per_thread=2)
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=40, base_mb=1500),
        runtime=lambda wildcards, input: 10
        + int(mem_mb_for(input, per_input_mb=1, base_mb=0)),
    script:
        "../../scripts/rnaseq_vst.py"


rule rnaseq_contrast_figures:
    input:
        results="results/{contrast}/rnaseq/deseq2_results.tsv",
        markers="results/{contrast}/rnaseq/marker_results.tsv",
        vst="results/rnaseq/vst.tsv",
        normalized_counts="results/rnaseq/normalized_counts.tsv",
    output:
        volcano=figure_outputs(
            "results/{contrast}/figures/rnaseq_volcano",
            caption="../report/rnaseq_volcano.rst",
            category="RNA-seq",
        ),
        ma=figure_outputs(
            "results/{contrast}/figures/rnaseq_ma",
            caption="../report/rnaseq_ma.rst",
            category="RNA-seq",
        ),
        heatmap=figure_outputs(
            "results/{contrast}/figures/rnaseq_marker_heatmap",
            caption="../report/rnaseq_marker_heatmap.rst",
            category="RNA-seq",
        ),
        counts=figure_outputs(
            "results/{contrast}/figures/rnaseq_marker_counts",
            caption="../report/rnaseq_marker_counts.rst",
            category="RNA-seq",
        ),
    log:
        "logs/{contrast}/rnaseq_contrast_figures.log",
    benchmark:
        "benchmarks/{contrast}/rnaseq_contrast_figures.tsv"
    priority: 1
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
        markers=lambda wildcards, input: caption_rows(input.markers),
    script:
        "../../scripts/rnaseq_contrast_figures.py"


rule rnaseq_sample_figures:
    input:
        vst="results/rnaseq/vst.tsv",
    output:
        pca=figure_outputs(
            "results/figures/rnaseq_pca",
            caption="../report/rnaseq_pca.rst",
            category="RNA-seq",
        ),
        distances=figure_outputs(
            "results/figures/rnaseq_sample_distances",
            caption="../report/rnaseq_sample_distances.rst",
            category="QC",
        ),
    log:
        "logs/rnaseq/sample_figures.log",
    benchmark:
        "benchmarks/rnaseq/sample_figures.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/rnaseq_sample_figures.py"


rule rnaseq_interactive_contrast:
    input:
        results="results/{contrast}/rnaseq/deseq2_results.tsv",
        markers="results/{contrast}/rnaseq/marker_results.tsv",
    output:
        volcano=report(
            "results/{contrast}/figures/rnaseq_volcano.html",
            caption="../report/rnaseq_volcano_interactive.rst",
            category="RNA-seq",
        ),
        ma=report(
            "results/{contrast}/figures/rnaseq_ma.html",
            caption="../report/rnaseq_ma_interactive.rst",
            category="RNA-seq",
        ),
    log:
        "logs/{contrast}/rnaseq_interactive_contrast.log",
    benchmark:
        "benchmarks/{contrast}/rnaseq_interactive_contrast.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
    script:
        "../../scripts/rnaseq_interactive_contrast.py"


rule rnaseq_interactive_pca:
    input:
        vst="results/rnaseq/vst.tsv",
    output:
        pca=report(
            "results/figures/rnaseq_pca.html",
            caption="../report/rnaseq_pca_interactive.rst",
            category="RNA-seq",
        ),
    log:
        "logs/rnaseq/interactive_pca.log",
    benchmark:
        "benchmarks/rnaseq/interactive_pca.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/rnaseq_interactive_pca.py"
