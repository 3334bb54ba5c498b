"""Time pydeseq2's DE step with the stock and the vectorised inference backend.

Each engine runs in a fresh subprocess so wall time, CPU time (resource.getrusage of the
child) and peak RSS are those of a whole DE run on seeded synthetic negative-binomial
counts (two groups). Prints one TSV row per engine.

Example::

    python scripts/bench_de_engine.py --samples 12 --genes 20000 --engines stock fast
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
from pydeseq2.ds import DeseqStats
engine, n, g, seed, n_cpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(seed)
base = rng.lognormal(mean=4.0, sigma=2.0, size=g)
disp = 0.02 + 2.0 / base
lfc = np.where(rng.uniform(size=g) < 0.1, rng.normal(0, 1.5, size=g), 0.0)
group = np.arange(n) % 2
sf = rng.lognormal(0, 0.2, size=n)
mu = sf[:, None] * base[None, :] * np.exp(np.outer(group, lfc))
size = 1.0 / disp
counts = rng.negative_binomial(size[None, :], size[None, :] / (size[None, :] + mu))
samples = [f"s{i}" for i in range(n)]
counts = pd.DataFrame(counts, index=samples, columns=[f"g{j}" for j in range(g)])
meta = pd.DataFrame({"condition": np.where(group == 1, "B", "A")}, index=samples)
t0 = time.perf_counter()
if engine == "stock":
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    inference = DefaultInference(n_cpus=n_cpus)
    dds = DeseqDataSet(counts=counts, metadata=meta, design="~condition",
                       inference=inference, quiet=True)
else:
    from fibroskin.fast_inference import FastDeseqDataSet, VectorizedInference
    inference = VectorizedInference()
    dds = FastDeseqDataSet(counts=counts, metadata=meta, design="~condition",
                           inference=inference, quiet=True,
                           trend_scheme="r" if engine == "fast-r" else "pydeseq2")
dds.deseq2()
stats = DeseqStats(dds, contrast=["condition", "B", "A"], inference=inference, quiet=True)
stats.summary()
if engine == "fast-r":
    from fibroskin.independent_filtering import r_faithful_padj
    r_faithful_padj(stats)
print(json.dumps({"fit_wall_s": time.perf_counter() - t0,
                  "n_sig": int((stats.results_df["padj"] < 0.05).sum())}))
"""


def run_engine(engine: str, samples: int, genes: int, seed: int, n_cpus: int) -> dict:
    """Run one engine in a child process and measure it.

    Parameters
    ----------
    engine : str
        ``stock``, ``fast`` or ``fast-r``.
    samples, genes : int
        Size of the synthetic count matrix.
    seed : int
        RNG seed of the synthetic data.
    n_cpus : int
        ``n_cpus`` for the stock backend (the fast one ignores it).

    Returns
    -------
    dict
        Wall time of the whole child, DE-only wall time, child CPU time, peak RSS (MiB).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, engine, str(samples), str(genes), str(seed),
         str(n_cpus)],
        check=True, capture_output=True, text=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "engine": engine,
        "samples": samples,
        "genes": genes,
        "process_wall_s": round(wall, 2),
        "de_wall_s": round(child["fit_wall_s"], 2),
        # joblib/loky workers are grandchildren; their CPU shows up only if reaped
        # through the child, which loky does, so this is the whole tree's CPU
        "cpu_s": round((after.ru_utime - before.ru_utime)
                       + (after.ru_stime - before.ru_stime), 2),
        # ru_maxrss of children is the largest single process (KiB on Linux)
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
        "n_sig": child["n_sig"],
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the engines, print a TSV table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-cpus", type=int, default=2)
    parser.add_argument("--engines", nargs="+", default=["stock", "fast"],
                        choices=["stock", "fast", "fast-r"])
    parser.add_argument("--no-header", action="store_true")
    args = parser.parse_args(argv)
    rows = [run_engine(e, args.samples, args.genes, args.seed, args.n_cpus)
            for e in args.engines]
    if not args.no_header:
        print("\t".join(rows[0]))
    for row in rows:
        print("\t".join(str(v) for v in row.values()))


if __name__ == "__main__":
    main()
