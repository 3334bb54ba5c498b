"""The ``fibroskin`` command: the user-facing tools beside the workflow.

``fibroskin init`` starts a working directory for a new cohort, ``fibroskin benchmark``
measures speed and memory, ``fibroskin bench-de-engine`` compares the DE engines with R
DESeq2. The analysis itself runs through ``snakemake`` (the command ``init`` prints).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fibroskin import __version__


def add_init_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``fibroskin init``."""
    parser.add_argument("directory", type=Path, help="working directory to write config.yaml and samples.tsv in")
    parser.add_argument("--cq", type=Path, nargs="+", default=[], metavar="FILE",
                        help="qPCR files: long Cq tables, QuantStudio/7500, CFX or RDML exports (format detected)")
    parser.add_argument("--counts", type=Path, metavar="FILE",
                        help="RNA-seq count table: genes x samples matrix (TSV/CSV, gzipped or not) or featureCounts output")
    parser.add_argument("--plate-map", type=Path, metavar="FILE",
                        help="plate, well, sample table naming the samples of exports that hold only wells")
    parser.add_argument("--reference-genes", nargs="+", metavar="GENE",
                        help="qPCR reference genes (default: the targets that are reference genes of the panel, "
                        "e.g. GAPDH, ACTB, RPLP0)")
    parser.add_argument("--column", default="condition", help="sample-sheet column to fill (default: condition)")
    parser.add_argument("--reference", default="healthy", help="reference level of the contrast (default: healthy)")
    parser.add_argument("--target", default="lesional", help="target level of the contrast (default: lesional)")
    parser.add_argument("--force", action="store_true", help="replace config.yaml and samples.tsv if they exist")


def run_init(args: argparse.Namespace) -> int:
    """``fibroskin init``: write the files, print what to fill and the command to run."""
    from fibroskin.errors import InputErrors
    from fibroskin.starter import StarterError, init_cohort, next_steps

    try:
        started = init_cohort(
            args.directory, args.cq, counts=args.counts, plate_map=args.plate_map,
            reference_genes=args.reference_genes, column=args.column, reference=args.reference,
            target=args.target, force=args.force,
        )
    except InputErrors as problems:
        print(problems, file=sys.stderr)
        return 1
    except StarterError as error:
        print(f"fibroskin init: {error}", file=sys.stderr)
        return 1
    print(next_steps(started, args.column, args.reference, args.target))
    return 0


def run_benchmark(args: argparse.Namespace) -> int:
    from fibroskin.benchmarking import suite

    return suite.run(args)


def run_bench_de_engine(args: argparse.Namespace) -> int:
    from fibroskin.benchmarking import de_engines

    return de_engines.run(args)


def parser() -> argparse.ArgumentParser:
    """The ``fibroskin`` argument parser with its subcommands."""
    from fibroskin.benchmarking import de_engines, suite

    main_parser = argparse.ArgumentParser(
        prog="fibroskin",
        description="Tools beside the fibroskin Snakemake workflow (qPCR and RNA-seq of fibrosing skin disease). "
        "The analysis runs with snakemake; `fibroskin init` prints the command.",
    )
    main_parser.add_argument("--version", action="version", version=f"fibroskin {__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = commands.add_parser(
        "init", help="start a working directory for a new cohort from its data files",
        description="Write DIR/config.yaml and DIR/samples.tsv (every sample found, an empty condition column "
        "to fill) from the cohort's qPCR and/or RNA-seq files, and print the snakemake command to run next.",
    )
    add_init_arguments(init)
    init.set_defaults(handler=run_init)
    benchmark = commands.add_parser(
        "benchmark", help="time and memory of each step at several input sizes",
        description="Seeded synthetic inputs; each step (qPCR read / aggregate / test, RNA-seq read / DE with "
        "each engine and R DESeq2, whole workflows) in its own child process, measured for wall time, CPU time "
        "and peak memory. Writes results/benchmark/benchmark.tsv, machine.tsv and benchmark.png.",
    )
    suite.add_arguments(benchmark)
    benchmark.set_defaults(handler=run_benchmark)
    engines = commands.add_parser(
        "bench-de-engine", help="the DE engines and R DESeq2 on the same counts: time, memory, agreement",
        description="Seeded synthetic counts; each engine (fast, stock pydeseq2, R DESeq2) fits and tests them "
        "in its own child process. Prints one TSV row per engine: wall time, CPU time, peak memory and, against R, "
        "the Jaccard index of the calls, the NA pattern and the largest log2 fold change difference.",
    )
    de_engines.add_arguments(engines)
    engines.set_defaults(handler=run_bench_de_engine)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fibroskin`` console command."""
    args = parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
