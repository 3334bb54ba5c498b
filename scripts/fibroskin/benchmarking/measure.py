"""Run a command as a child process and measure it: wall time, CPU time, peak memory."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

#: Runs a command, waits for it, prints its wall time and rusage as JSON (last stdout line).
#: A fresh measuring process per command: ``ru_maxrss`` of ``RUSAGE_CHILDREN`` is a maximum
#: over every child a process ever reaped.
WRAPPER = r"""
import json, resource, subprocess, sys, time
start = time.perf_counter()
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"returncode": result.returncode, "wall_s": wall,
                  "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
                  "stdout": result.stdout[-20000:], "stderr": result.stderr[-5000:]}))
"""


def load() -> float:
    """The 1-minute load average (the machine may be shared)."""
    return round(os.getloadavg()[0], 2)


def log(message: str) -> None:
    """A progress line on stderr, with the time and the load."""
    print(f"[benchmark {time.strftime('%H:%M:%S')} load {load():.2f}] {message}", file=sys.stderr, flush=True)


def measure(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``command`` through :data:`WRAPPER`.

    Returns
    -------
    dict
        ``wall_s``, ``cpu_s`` (user + system of the child and its own children), ``peak_mb``
        (largest resident set of one process), plus the keys of the JSON object the child
        printed last on its stdout, if any.

    Raises
    ------
    RuntimeError
        When the command exits with a non-zero status (its output ends the message).
    """
    completed = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True, env=env, check=True
    )
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    if outcome["returncode"] != 0:
        raise RuntimeError(f"{' '.join(command[:3])} ... failed:\n{outcome['stdout'][-3000:]}\n{outcome['stderr']}")
    child: dict = {}
    lines = [line for line in outcome["stdout"].strip().splitlines() if line.startswith("{")]
    if lines:
        child = json.loads(lines[-1])
    return {"wall_s": outcome["wall_s"], "cpu_s": outcome["cpu_s"], "peak_mb": outcome["peak_mb"], **child}


def snakemake_command() -> str:
    """The snakemake next to this Python, so a benchmark uses the environment it runs in."""
    candidate = Path(sys.executable).with_name("snakemake")
    return str(candidate) if candidate.exists() else shutil.which("snakemake") or "snakemake"


def r_available() -> bool:
    """Whether ``Rscript`` with DESeq2 is installed (for the R comparison only)."""
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "suppressPackageStartupMessages(library(DESeq2))"], capture_output=True, text=True
    )
    return probe.returncode == 0


def machine() -> pd.DataFrame:
    """The machine and software a benchmark ran on, as ``item``, ``value`` rows."""
    from importlib.metadata import PackageNotFoundError, version

    model = ""
    if Path("/proc/cpuinfo").exists():
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    versions = {}
    for package in ("fibroskin", "snakemake", "pydeseq2", "pandas", "numpy", "scipy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    r_version = ""
    if shutil.which("Rscript"):
        r_version = subprocess.run(
            ["Rscript", "-e", "cat(R.version.string, '; DESeq2', as.character(packageVersion('DESeq2')))"],
            capture_output=True, text=True,
        ).stdout.strip()
    items = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "nproc": os.cpu_count(), "memory_gb": round(memory_gb, 1),
        "cpu_model": model, "python": platform.python_version(), "platform": platform.platform(),
        "r": r_version, **versions,
    }
    return pd.DataFrame({"item": list(items), "value": [str(v) for v in items.values()]})
