rule qpcr_delta_cq:
    input:
        tables=cq_tables(),
        samples=config["samples"],
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
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/qpcr_delta_cq.py"


rule qpcr_contrast:
    input:
        delta_cq="results/qpcr/delta_cq.tsv",
        samples=config["samples"],
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
        mem_mb=1000,
        runtime=10,
    params:
        contrast=contrast_spec,
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
        mem_mb=1000,
        runtime=10,
    params:
        contrast=contrast_spec,
    script:
        "../../scripts/qpcr_marker_figure.py"
