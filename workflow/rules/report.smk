rule finding_summary:
    input:
        unpack(summary_inputs),
    output:
        summary=report(
            "results/{contrast}/summary.tsv",
            caption="../report/summary.rst",
            category="Summary",
            labels={"contrast": "{contrast}", "table": "finding summary"},
        ),
    log:
        "logs/{contrast}/finding_summary.log",
    benchmark:
        "benchmarks/{contrast}/finding_summary.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
        rows=lambda wildcards, output: caption_rows(output.summary),
    script:
        "../../scripts/finding_summary.py"


rule profibrotic_score:
    input:
        unpack(score_inputs),
    output:
        score="results/score/profibrotic_score.tsv",
    log:
        "logs/score/profibrotic_score.log",
    benchmark:
        "benchmarks/score/profibrotic_score.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    script:
        "../../scripts/profibrotic_score.py"


rule score_contrast:
    input:
        score="results/score/profibrotic_score.tsv",
    output:
        test="results/{contrast}/score/score_test.tsv",
        figures=figure_outputs(
            "results/{contrast}/figures/profibrotic_score",
            caption="../report/profibrotic_score.rst",
            category="Summary",
        ),
    log:
        "logs/{contrast}/score_contrast.log",
    benchmark:
        "benchmarks/{contrast}/score_contrast.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
        tests=lambda wildcards, output: caption_rows(output.test),
    script:
        "../../scripts/score_contrast.py"


rule concordance:
    input:
        qpcr="results/{contrast}/qpcr/marker_stats.tsv",
        rnaseq="results/{contrast}/rnaseq/marker_results.tsv",
        delta_cq="results/qpcr/delta_cq.tsv",
        normalized_counts="results/rnaseq/normalized_counts.tsv",
    output:
        markers=report(
            "results/{contrast}/concordance/markers.tsv",
            caption="../report/concordance_table.rst",
            category="Concordance",
            labels={"contrast": "{contrast}", "table": "marker concordance"},
        ),
        samples="results/{contrast}/concordance/samples.tsv",
        sample_correlation="results/{contrast}/concordance/sample_correlation.tsv",
        marker_figures=figure_outputs(
            "results/{contrast}/figures/concordance_markers",
            caption="../report/concordance_markers.rst",
            category="Concordance",
        ),
        sample_figures=figure_outputs(
            "results/{contrast}/figures/concordance_samples",
            caption="../report/concordance_samples.rst",
            category="Concordance",
        ),
    log:
        "logs/{contrast}/concordance.log",
    benchmark:
        "benchmarks/{contrast}/concordance.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
        markers=lambda wildcards, output: caption_rows(output.markers),
        correlations=lambda wildcards, output: caption_rows(output.sample_correlation),
    script:
        "../../scripts/concordance.py"


rule score_between_assays:
    input:
        score="results/score/profibrotic_score.tsv",
    output:
        figures=figure_outputs(
            "results/{contrast}/figures/profibrotic_score_qpcr_vs_rnaseq",
            caption="../report/profibrotic_score_between_assays.rst",
            category="Concordance",
        ),
    log:
        "logs/{contrast}/score_between_assays.log",
    benchmark:
        "benchmarks/{contrast}/score_between_assays.tsv"
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10, base_mb=1000),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        contrast=contrast_spec,
    script:
        "../../scripts/score_between_assays.py"
