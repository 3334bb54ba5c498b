"""Why sample sheets are read with python-calamine: it against openpyxl (.xlsx) and odfpy (.ods).

A seeded sample sheet (sample, condition, patient, batch) of 100 and 2,000 rows is written
as .xlsx (openpyxl) and .ods (odfpy) and read back as text through pandas' ``read_excel``
with each engine; ``read_ms`` is the median of 5 reads in one process, ``import_ms`` the
median of 5 fresh interpreters importing the reader (every Snakemake job that loads the
sheet pays it). Writes ``spreadsheet_readers.tsv`` beside this script.

Needs openpyxl, odfpy and python-calamine::

    pip install odfpy && python resources/benchmark/compare_spreadsheet_readers.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
READERS = {"openpyxl": ("openpyxl", "openpyxl"), "odf": ("odf.opendocument", "odfpy"), "calamine": ("python_calamine", "python-calamine")}


def sheet(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"sample": [f"S{i:04d}" for i in range(rows)], "condition": ["lesional", "healthy"] * (rows // 2),
                         "patient": [f"P{i // 2:04d}" for i in range(rows)], "batch": [f"run{i % 3 + 1}" for i in range(rows)]})


def median_ms(function, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def import_ms(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    values = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
              for _ in range(5)]
    return round(statistics.median(values) * 1000, 1)


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for size in (100, 2000):
            table = sheet(size)
            xlsx, ods = Path(directory) / f"s{size}.xlsx", Path(directory) / f"s{size}.ods"
            table.to_excel(xlsx, index=False, engine="openpyxl")
            table.to_excel(ods, index=False, engine="odf")
            for path, engines in ((xlsx, ("openpyxl", "calamine")), (ods, ("odf", "calamine"))):
                for engine in engines:
                    read = pd.read_excel(path, engine=engine, dtype=str)
                    assert read.equals(table), (engine, path)
                    module, package = READERS[engine]
                    rows.append({"format": path.suffix.lstrip("."), "rows": size, "reader": package,
                                 "version": version(package),
                                 "read_ms": median_ms(lambda: pd.read_excel(path, engine=engine, dtype=str)),
                                 "import_ms": import_ms(module)})
    table = pd.DataFrame(rows)
    table.to_csv(HERE / "spreadsheet_readers.tsv", sep="\t", index=False)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
