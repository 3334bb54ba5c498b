rule benchmark_summary:
    input:
        lambda wildcards: [
            job["benchmark"]
            for job in benchmark_jobs(
                workflow.rules, all_outputs(), exclude=["all", "benchmark_summary"]
            )
        ],
    output:
        table=report(
            "results/benchmarks.tsv",
            caption="../report/benchmarks.rst",
            category="QC",
            labels={"table": "job benchmarks"},
        ),
    log:
        "logs/benchmark_summary.log",
    localrule: True
    conda:
        "../envs/fibroskin.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: mem_mb_for(input, per_input_mb=10),
        runtime=lambda wildcards, input: runtime_for(input, minutes_per_mb=1),
    params:
        jobs=lambda wildcards: benchmark_jobs(
            workflow.rules, all_outputs(), exclude=["all", "benchmark_summary"]
        ),
    script:
        "../../scripts/benchmark_summary.py"
