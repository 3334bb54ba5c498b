"""One step of ours in a fresh interpreter, for the benchmark: ``python -m fibroskin.benchmarking.step SPEC``.

``SPEC`` is a JSON object naming the ``step`` (``read``, ``aggregate``, ``test``,
``read_counts``, ``de``) and its files. Imports and input loading are outside the step's
own timing; the last stdout line is a JSON object with ``step_wall_s``, ``step_cpu_s``
and what the step counted.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import pandas as pd


def timed(function: Callable[[], Any]) -> tuple[Any, float, float]:
    """The function's value, wall time and CPU time of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def run_step(spec: dict) -> dict:
    """Run the step of ``spec``; its timings and counts."""
    step = spec["step"]
    extra: dict[str, int] = {}
    if step == "read":
        from fibroskin.io.instruments import read_qpcr_files

        (wells, _notes), wall, cpu = timed(lambda: read_qpcr_files(spec["paths"], format="auto", plate_map=None))
        wells.to_pickle(spec["output"])
        extra["rows"] = len(wells)
    elif step == "aggregate":
        from fibroskin import qpcr

        wells = pd.read_pickle(spec["input"])
        (_qc, delta), wall, cpu = timed(lambda: qpcr.analyse_wells(wells, spec["references"], 35.0, 0.5, False, None))
        delta.to_pickle(spec["output"])
        extra["rows"] = len(delta)
    elif step == "test":
        import scipy.stats  # noqa: F401 - imported by fibroskin.stats on first use: keep it out of the step's time

        from fibroskin import qpcr
        from fibroskin.config import Contrast

        delta = pd.read_pickle(spec["input"])
        samples = pd.read_csv(spec["samples"], sep="\t", dtype=str)
        contrast = Contrast("lesional_vs_healthy", "condition", "healthy", "lesional")
        arguments = (delta, samples, contrast, spec["references"], spec["markers"])
        (stats, _relative), wall, cpu = timed(
            lambda: (qpcr.contrast_statistics(*arguments, test="welch"), qpcr.relative_expression(*arguments))
        )
        extra["rows"] = len(stats)
    elif step == "read_counts":
        from fibroskin.io.counts import read_counts

        (counts, _notes), wall, cpu = timed(lambda: read_counts(spec["counts"]))
        counts.to_pickle(spec["output"])
        extra["rows"] = int(counts.shape[0])
    elif step == "de":
        from fibroskin import rnaseq

        counts = pd.read_pickle(spec["input"])
        sheet = pd.read_csv(spec["samples"], sep="\t", dtype=str).set_index("sample").loc[list(counts.columns)]

        def run() -> pd.DataFrame:
            kept = rnaseq.prefilter(counts, sheet["condition"], 10)
            dds = rnaseq.fit_deseq(kept, sheet[["condition"]], "~condition", engine=spec["engine"],
                                   n_cpus=spec["n_cpus"], reference_levels={"condition": "healthy"})
            return rnaseq.test_contrast(dds, "condition", "healthy", "lesional", alpha=0.05, shrink=False)

        results, wall, cpu = timed(run)
        results.to_csv(spec["output"], sep="\t", index=False)
        extra["n_sig"] = int((results["padj"] < 0.05).sum())
        extra["rows"] = len(results)
    else:
        raise ValueError(f"unknown benchmark step {step!r}")
    return {"step_wall_s": wall, "step_cpu_s": cpu, **extra}


if __name__ == "__main__":
    print(json.dumps(run_step(json.loads(sys.argv[1]))))
