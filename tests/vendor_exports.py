"""The bundled example's data rewritten in the instruments' and tools' own layouts, for tests.

Every function writes the same wells (or counts) as ``resources/example``, so a run on its
output must give the example's numbers (wells are renumbered row by row on a 384-well plate
per file; each sample and target is on one plate, so no plate calibration applies): QuantStudio results CSV (header block, ``[Results]``,
``CT`` with ``Undetermined``), Bio-Rad CFX "Quantification Cq Results" CSV (``Content``
``Unkn-nn``, ``NaN`` for no Cq), RDML 1.2 zipped as ``.rdml`` (``-1`` for no Cq), and
featureCounts output (program comment, annotation columns, BAM paths as column names).
Layouts follow the public descriptions of each format (as ``tests/data/formats`` does);
nothing here comes from a real instrument.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "example"

#: Targets of each instrument's plate when the example is split over three instruments.
PLATES = {
    "quantstudio": ["GAPDH", "ACTB", "TGFB1"],
    "cfx": ["RPLP0", "COL1A1", "COL1A2"],
    "rdml": ["COL3A1", "CCN2"],
}


def example_wells() -> pd.DataFrame:
    """The example's long Cq table (plate, well, sample, target, cq as text)."""
    return pd.read_csv(EXAMPLE / "qpcr_cq.tsv", sep="\t", dtype=str, keep_default_na=False)


def _row_column(position: int) -> tuple[int, int]:
    """Row (0-based) and column (1-based) of the ``position``-th well of a 384-well plate, row by row."""
    return position // 24, position % 24 + 1


def quantstudio_csv(wells: pd.DataFrame) -> str:
    """A QuantStudio results export (384-well block) of ``wells``."""
    lines = [
        "* Block Type = 384-Well Block",
        "* Chemistry = SYBR_GREEN",
        "* Experiment Name = fibroskin_example_quantstudio",
        "* Instrument Type = QuantStudio\u2122 7 Flex System",
        "",
        "[Results]",
        "Well,Well Position,Omit,Sample Name,Target Name,Task,Reporter,Quencher,CT,Quantity",
    ]
    for position, row in enumerate(wells.itertuples()):
        letter, column = _row_column(position)
        number = letter * 24 + column
        cq = "Undetermined" if row.cq.lower() == "undetermined" else row.cq
        lines.append(f"{number},{chr(ord('A') + letter)}{column},false,{row.sample},{row.target},UNKNOWN,SYBR,None,{cq},")
    return "\r\n".join(lines) + "\r\n"


def cfx_csv(wells: pd.DataFrame) -> str:
    """A Bio-Rad CFX 'Quantification Cq Results' CSV of ``wells``."""
    samples = {sample: index for index, sample in enumerate(dict.fromkeys(wells["sample"]), start=1)}
    lines = [",Well,Fluor,Target,Content,Sample,Biological Set Name,Cq,Cq Mean,Cq Std. Dev,Starting Quantity (SQ)"]
    for index, row in enumerate(wells.itertuples()):
        letter, column = _row_column(index)
        cq = "NaN" if row.cq.lower() == "undetermined" else row.cq
        lines.append(f"{index},{chr(ord('A') + letter)}{column:02d},SYBR,{row.target},Unkn-{samples[row.sample]:02d},"
                     f"{row.sample},,{cq},,,")
    return "\r\n".join(lines) + "\r\n"


def rdml_bytes(wells: pd.DataFrame, run: str = "run_rdml") -> bytes:
    """An RDML 1.2 file (a zip holding ``rdml_data.xml``) of ``wells`` on a 384-well plate."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<rdml xmlns:rdml="http://www.rdml.org" xmlns="http://www.rdml.org" version="1.2">',
             "  <dye id=\"SYBR\"/>"]
    for sample in dict.fromkeys(wells["sample"]):
        parts.append(f'  <sample id="{escape(sample)}"><type>unkn</type></sample>')
    for target in dict.fromkeys(wells["target"]):
        parts.append(f'  <target id="{escape(target)}"><type>toi</type><dyeId id="SYBR"/></target>')
    parts += ['  <experiment id="fibroskin_example">', f'    <run id="{run}">',
              "      <pcrFormat><rows>16</rows><columns>24</columns><rowLabel>ABC</rowLabel>"
              "<columnLabel>123</columnLabel></pcrFormat>"]
    for position, row in enumerate(wells.itertuples()):
        letter, column = _row_column(position)
        cq = "-1" if row.cq.lower() == "undetermined" else row.cq
        parts.append(f'      <react id="{letter * 24 + column}"><sample id="{escape(row.sample)}"/>'
                     f'<data><tar id="{escape(row.target)}"/><cq>{cq}</cq></data></react>')
    parts += ["    </run>", "  </experiment>", "</rdml>"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("rdml_data.xml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, "\n".join(parts) + "\n")
    return buffer.getvalue()


def featurecounts_text(counts: pd.DataFrame) -> str:
    """featureCounts output of a genes x samples table: BAM paths as columns, annotation columns."""
    bams = [f"/data/fibroskin/aligned/{sample}.Aligned.sortedByCoord.out.bam" for sample in counts.columns[1:]]
    lines = ['# Program:featureCounts v2.0.6; Command:"featureCounts" "-a" "gencode.gtf" "-o" "counts.txt" '
             + " ".join(f'"{bam}"' for bam in bams),
             "\t".join(["Geneid", "Chr", "Start", "End", "Strand", "Length", *bams])]
    for index, row in enumerate(counts.itertuples(index=False)):
        gene, *values = row
        start = 1000 + 5000 * index
        lines.append("\t".join([gene, "chr1", str(start), str(start + 1999), "+", "2000", *map(str, values)]))
    return "\n".join(lines) + "\n"


def write_exports(directory: Path) -> dict[str, Path]:
    """Every input kind ``fibroskin init`` reads, made from the example, in ``directory``.

    Returns the paths by kind: ``long``, ``quantstudio``, ``cfx``, ``rdml`` (the qPCR wells,
    each instrument holding the targets of :data:`PLATES`; ``long`` holds all), ``matrix``
    and ``featurecounts`` (the counts).
    """
    directory.mkdir(parents=True, exist_ok=True)
    wells = example_wells()
    paths = {"long": directory / "qpcr_cq.tsv"}
    paths["long"].write_bytes((EXAMPLE / "qpcr_cq.tsv").read_bytes())
    paths["quantstudio"] = directory / "plate_quantstudio.csv"
    paths["quantstudio"].write_bytes(quantstudio_csv(wells[wells["target"].isin(PLATES["quantstudio"])]).encode("utf-8"))
    paths["cfx"] = directory / "plate_cfx.csv"
    paths["cfx"].write_bytes(cfx_csv(wells[wells["target"].isin(PLATES["cfx"])]).encode("utf-8"))
    paths["rdml"] = directory / "plate_rdml.rdml"
    paths["rdml"].write_bytes(rdml_bytes(wells[wells["target"].isin(PLATES["rdml"])]))
    paths["matrix"] = directory / "counts.tsv"
    paths["matrix"].write_bytes((EXAMPLE / "counts.tsv").read_bytes())
    counts = pd.read_csv(EXAMPLE / "counts.tsv", sep="\t", dtype=str)
    paths["featurecounts"] = directory / "featurecounts.txt"
    paths["featurecounts"].write_text(featurecounts_text(counts))
    return paths
