"""results/benchmarks.tsv: every job's Snakemake benchmark file, one row per job."""

from types import SimpleNamespace

from snakemake.io import IOFile

from fibroskin.benchmarks import BENCHMARK_COLUMNS, benchmark_jobs, gather

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def test_gather_reads_each_benchmark_file(tmp_path):
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    first.write_text(HEADER + "2.50\t0:00:02\t120.5\t300\t100\t110\t0.00\t1.20\t40.0\t1.90\n")
    # A job benchmarked twice (repeat(...)): the mean of its runs.
    second.write_text(HEADER + "1.00\t0:00:01\t50\t-\t-\t-\t0\t0\t10\t0.5\n3.00\t0:00:03\t70\t-\t-\t-\t0\t0\t30\t1.5\n")
    jobs = [
        {"rule": "zeta", "wildcards": "", "benchmark": str(first)},
        {"rule": "alpha", "wildcards": "contrast=x", "benchmark": str(second)},
    ]
    table = gather(jobs)
    assert list(table.columns) == BENCHMARK_COLUMNS
    assert table["rule"].tolist() == ["alpha", "zeta"]
    alpha, zeta = table.iloc[0], table.iloc[1]
    assert (alpha["wall_s"], alpha["cpu_s"], alpha["max_rss_mb"]) == (2.0, 1.0, 60.0)
    assert (zeta["wall_s"], zeta["cpu_s"], zeta["max_rss_mb"], zeta["io_out_mb"]) == (2.5, 1.9, 120.5, 1.2)


class FakeRule(SimpleNamespace):
    """The part of a Snakemake rule benchmark_jobs uses: name, benchmark, output matching."""

    def is_producer(self, path):
        return path.startswith(self.prefix)

    def get_wildcards(self, path):
        return {"contrast": path.split("/")[1]} if self.per_contrast else {}


def test_benchmark_jobs_maps_targets_to_their_job_once():
    rules = [
        FakeRule(name="fit", benchmark=IOFile("benchmarks/fit.tsv"), prefix="results/rnaseq/", per_contrast=False),
        FakeRule(
            name="contrast",
            benchmark=IOFile("benchmarks/{contrast}/contrast.tsv"),
            prefix="results/c",
            per_contrast=True,
        ),
        FakeRule(name="all", benchmark=None, prefix="", per_contrast=False),
    ]
    targets = ["results/rnaseq/vst.tsv", "results/rnaseq/size_factors.tsv", "results/c1/x.tsv", "results/c2/x.tsv"]
    jobs = benchmark_jobs(rules, targets, exclude=["all"])
    assert jobs == [
        {"rule": "contrast", "wildcards": "contrast=c1", "benchmark": "benchmarks/c1/contrast.tsv"},
        {"rule": "contrast", "wildcards": "contrast=c2", "benchmark": "benchmarks/c2/contrast.tsv"},
        {"rule": "fit", "wildcards": "", "benchmark": "benchmarks/fit.tsv"},
    ]
