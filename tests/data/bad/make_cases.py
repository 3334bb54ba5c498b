"""Generate the bad-input corpus: one folder per case, each with ``case.yaml`` and its files.

Every case starts from the bundled example (``base/``: the sample sheet ``samples.tsv``,
the Cq table ``cq.tsv`` and the count table ``counts.tsv``, plus ``base/config.yaml``)
and replaces some of these files and/or config values. ``case.yaml`` holds:

- ``description``: what a lab did wrong (or what unusual but readable file it gave);
- ``config``: overrides deep-merged into ``base/config.yaml`` (``null`` removes a key
  or a whole branch);
- ``expect``: ``error`` (refused before any job runs) or ``accept`` (read, with a note);
- ``messages``: substrings the error output (or, for ``accept``, the notes) must contain;
- ``cli``: also run through the real ``snakemake -n`` / ``snakemake`` command line.

Run ``python tests/data/bad/make_cases.py`` from the checkout to rewrite the corpus. The
files are committed, so the tests do not depend on this script; it documents how each
case was derived from the example. Binary content (UTF-16, BOM, CRLF) is written as bytes;
``.gitattributes`` keeps git from converting it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

SHEET = (ROOT / "config" / "samples.tsv").read_text()
CQ = (ROOT / "resources" / "example" / "qpcr_cq.tsv").read_text()
COUNTS = (ROOT / "resources" / "example" / "counts.tsv").read_text()


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def join(rows: list[str]) -> str:
    return "\n".join(rows) + "\n"


def replace_line(text: str, number: int, new: str) -> str:
    """Replace 1-based line ``number``."""
    rows = lines(text)
    rows[number - 1] = new
    return join(rows)


def set_field(text: str, number: int, column: int, value: str, sep: str = "\t") -> str:
    rows = lines(text)
    fields = rows[number - 1].split(sep)
    fields[column] = value
    rows[number - 1] = sep.join(fields)
    return join(rows)


def drop_lines(text: str, keep) -> str:
    return join([row for number, row in enumerate(lines(text), start=1) if keep(number, row)])


def map_lines(text: str, function) -> str:
    return join([function(number, row) for number, row in enumerate(lines(text), start=1)])


def sheet_with(column: str, values: dict[str, str]) -> str:
    """The example sheet with a column's value changed for some samples."""
    rows = lines(SHEET)
    header = rows[0].split("\t")
    position = header.index(column)
    out = [rows[0]]
    for row in rows[1:]:
        fields = row.split("\t")
        if fields[0] in values:
            fields[position] = values[fields[0]]
        out.append("\t".join(fields))
    return join(out)


QPCR_ONLY = {"rnaseq": None}
RNASEQ_ONLY = {"qpcr": None}

CASES: list[dict] = []


def case(name, description, files=None, config=None, expect="error", messages=(), cli=False):
    CASES.append(
        {
            "name": name,
            "description": description,
            "files": files or {},
            "config": config or {},
            "expect": expect,
            "messages": list(messages),
            "cli": cli,
        }
    )


# ---------------------------------------------------------------- sample sheet
case(
    "sheet_duplicate_sample",
    "Sample H04 was typed as H03 (copy-paste): two rows with one ID, and H04's Cq rows match no sheet row.",
    files={"samples.tsv": SHEET.replace("H04\t", "H03\t")},
    messages=[
        "samples.tsv, line 5, column 'sample': sample ID is used more than once (lines 4, 5) (found: 'H03')",
        "cq.tsv, line 74, column 'sample': sample 'H04' is not in the sample sheet",
    ],
    cli=True,
)
case(
    "sheet_no_sample_column",
    "The ID column is headed 'Sample ID' instead of 'sample'.",
    files={"samples.tsv": SHEET.replace("sample\t", "Sample ID\t", 1)},
    messages=["samples.tsv, line 1, column 'sample': the sample sheet has no 'sample' column", "'Sample ID, condition, patient, batch'"],
)
case(
    "sheet_contrast_column_misspelled",
    "The contrast column is headed 'conditon'.",
    files={"samples.tsv": SHEET.replace("condition", "conditon", 1)},
    config=QPCR_ONLY,
    messages=["uses column 'condition', which the sample sheet does not have (did you mean 'conditon'?)"],
)
case(
    "sheet_empty_sample_id",
    "One row has its sample ID deleted.",
    files={"samples.tsv": set_field(SHEET, 3, 0, "")},
    config=QPCR_ONLY,
    messages=["samples.tsv, line 3, column 'sample': sample ID is empty"],
)
case(
    "sheet_group_with_one_sample",
    "Only one lesional sample left in the sheet (the others were moved to another file).",
    files={"samples.tsv": drop_lines(SHEET, lambda n, row: not row.startswith(("L02", "L03", "L04", "L05", "L06")))},
    config=QPCR_ONLY,
    messages=[
        "samples.tsv, line 8, column 'condition': contrast 'lesional_vs_healthy': level 'lesional' has only 1 sample",
        "at least 2 samples per level",
    ],
)
case(
    "sheet_empty_file",
    "The sample sheet is an empty file (saved before anything was typed).",
    files={"samples.tsv": ""},
    messages=["samples.tsv: file is empty"],
)
case(
    "sheet_header_only",
    "The sample sheet has its header but no rows.",
    files={"samples.tsv": lines(SHEET)[0] + "\n"},
    messages=["samples.tsv, line 2: the sample sheet has a header but no samples"],
)
case(
    "sheet_pipe_delimited",
    "The sheet was exported with '|' as the delimiter.",
    files={"samples.tsv": SHEET.replace("\t", "|")},
    messages=["samples.tsv, line 1: the header has a single column", "delimited by tab, comma or semicolon"],
)
case(
    "sheet_space_delimited",
    "The sheet was copied from a web page: columns separated by runs of spaces.",
    files={"samples.tsv": SHEET.replace("\t", "   ")},
    messages=["samples.tsv, line 1: the header has a single column", "spaces"],
)
case(
    "sheet_extra_fields",
    "A row has more fields than the header (a stray tab after the batch).",
    files={"samples.tsv": replace_line(SHEET, 4, lines(SHEET)[3] + "\tresequenced")},
    config=QPCR_ONLY,
    messages=["samples.tsv, line 4: row has 5 fields but the header has 4", "'resequenced'"],
)
case(
    "sheet_binary_file",
    "An Excel workbook (.xlsx bytes) was given as the sample sheet.",
    files={"samples.tsv": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
    messages=["samples.tsv: file is binary"],
)
case(
    "sheet_utf8_bom",
    "Excel's 'CSV UTF-8' adds a byte-order mark: accepted with a note.",
    files={"samples.tsv": b"\xef\xbb\xbf" + SHEET.encode()},
    expect="accept",
    messages=["samples.tsv: UTF-8 byte-order mark removed"],
)
case(
    "sheet_windows_line_endings",
    "Saved on Windows (CRLF): accepted with a note.",
    files={"samples.tsv": SHEET.replace("\n", "\r\n").encode()},
    expect="accept",
    messages=["samples.tsv: Windows line endings converted"],
)
case(
    "sheet_utf16",
    "Saved as 'Unicode text' by Excel (UTF-16 with BOM, CRLF): accepted with notes.",
    files={"samples.tsv": SHEET.replace("\n", "\r\n").encode("utf-16")},
    expect="accept",
    messages=["samples.tsv: read as UTF-16", "samples.tsv: Windows line endings converted"],
)
case(
    "sheet_trailing_empty_columns_and_rows",
    "A spreadsheet export with empty trailing columns and rows: accepted with a note.",
    files={"samples.tsv": "".join(row + "\t\t\n" for row in lines(SHEET)) + "\t\t\t\t\t\n\t\t\t\t\t\n"},
    expect="accept",
    messages=["samples.tsv: 2 empty trailing column(s) ignored"],
)
case(
    "sheet_level_typo_left_out",
    "One healthy sample typed 'helathy' (5 healthy remain): accepted, with a warning naming the likely typo.",
    files={"samples.tsv": sheet_with("condition", {"H04": "helathy"})},
    config=QPCR_ONLY,
    expect="accept",
    messages=["level 'helathy' of column 'condition' is used by no contrast (did you mean 'healthy'?)"],
)

# ---------------------------------------------------------------- contrasts and tests
case(
    "contrast_level_misspelled",
    "The config's target level is 'lesionl'.",
    config={"contrasts": {"lesional_vs_healthy": {"target": "lesionl"}}},
    messages=[
        "contrast 'lesional_vs_healthy': target level 'lesionl' does not occur in column 'condition' (did you mean 'lesional'?)",
        "expected one of healthy, lesional",
    ],
)
case(
    "contrast_level_absent",
    "The config compares against 'control', a level the sheet does not have.",
    config={"contrasts": {"lesional_vs_healthy": {"reference": "control"}}},
    messages=["reference level 'control' does not occur in column 'condition'", "expected one of healthy, lesional"],
)
case(
    "paired_test_incomplete_pairs",
    "Paired t test, but patient P06's lesional sample was assigned to P07.",
    files={
        "samples.tsv": sheet_with(
            "patient",
            {**{f"H0{i}": f"P0{i}" for i in range(1, 7)}, **{f"L0{i}": f"P0{i}" for i in range(1, 6)}, "L06": "P07"},
        )
    },
    config={"qpcr": {"test": "paired_t"}, "rnaseq": None},
    messages=[
        "samples.tsv, line 7, column 'patient': contrast 'lesional_vs_healthy': patient 'P06' has 1 'healthy' and 0 'lesional' sample(s)",
        "patient 'P07' has 0 'healthy' and 1 'lesional'",
        "complete pairs",
    ],
)
case(
    "paired_test_without_patient_column",
    "Wilcoxon signed-rank test asked for, but the sheet has no patient column.",
    files={"samples.tsv": join(["\t".join(row.split("\t")[:2]) for row in lines(SHEET)])},
    config={"qpcr": {"test": "wilcoxon"}, "rnaseq": None},
    messages=["samples.tsv, line 1, column 'patient': a paired test needs a 'patient' column pairing the samples"],
)

# ---------------------------------------------------------------- three-group families and the qPCR linear model
THREE_GROUPS = {"lesional_vs_healthy": None, "skin": {"column": "condition", "levels": ["healthy", "non-lesional", "lesional"]}}
case(
    "contrast_levels_level_absent",
    "A three-group family (healthy / non-lesional / lesional), but the sheet has no non-lesional biopsies.",
    config={"contrasts": THREE_GROUPS, "rnaseq": None},
    messages=[
        "samples.tsv, column 'condition': contrast 'skin': level 'non-lesional' does not occur in column 'condition'",
        "expected one of healthy, lesional",
    ],
)
case(
    "contrast_levels_and_reference",
    "A contrast given both 'levels' and a 'reference' (two ways of saying which groups to compare).",
    config={"contrasts": {"lesional_vs_healthy": {"levels": ["healthy", "lesional"]}}, "rnaseq": None},
    messages=[
        "config key 'contrasts.lesional_vs_healthy': contrast 'lesional_vs_healthy' gives reference and target and levels",
        "either 'reference' and 'target' (one comparison) or 'levels' (every pair of them), not both",
    ],
)
case(
    "contrast_levels_name_collision",
    "A family of healthy and lesional beside the single contrast lesional_vs_healthy: both would write results/lesional_vs_healthy/.",
    config={"contrasts": {"skin": {"column": "condition", "levels": ["healthy", "lesional"]}}, "rnaseq": None},
    messages=[
        "two contrasts would write to results/lesional_vs_healthy/: contrast 'lesional_vs_healthy', and contrast 'skin' "
        "(levels healthy, lesional) expands to 'lesional_vs_healthy'",
    ],
)
case(
    "qpcr_design_column_missing",
    "The qPCR design names 'batchh', a column the sheet does not have (typo for batch).",
    config={"qpcr": {"design": "~batchh + condition"}, "rnaseq": None},
    messages=[
        "samples.tsv, line 1, column 'batchh': the qPCR design '~batchh + condition' names 'batchh', which is not a "
        "column of the sample sheet (did you mean 'batch'?)",
    ],
    cli=True,
)
case(
    "qpcr_design_confounded",
    "Every healthy sample was run in batch run1 and every lesional one in run2: batch and condition cannot be told apart.",
    files={"samples.tsv": sheet_with("batch", {**{f"H0{i}": "run1" for i in range(1, 7)}, **{f"L0{i}": "run2" for i in range(1, 7)}})},
    config={"qpcr": {"design": "~batch + condition"}, "rnaseq": None},
    messages=[
        "samples.tsv, column 'batch, condition': the qPCR design '~batch + condition' is not full rank on the samples "
        "of contrast 'lesional_vs_healthy' (2 independent of 3 coefficients): 'batch' and 'condition' are confounded",
        "model columns batch[T.run2], condition[T.lesional] are linearly dependent",
    ],
)
case(
    "qpcr_design_constant_covariate",
    "An 'age' column filled with the same value for every sample (a spreadsheet fill-down).",
    files={"samples.tsv": map_lines(SHEET, lambda n, row: row + ("\tage" if n == 1 else "\t50"))},
    config={"qpcr": {"design": "~age + condition"}, "rnaseq": None},
    messages=["'age' is constant, so it duplicates the intercept"],
)
case(
    "qpcr_design_interaction",
    "A design with a batch-by-condition interaction: the condition effect would differ per batch.",
    config={"qpcr": {"design": "~batch * condition"}, "rnaseq": None},
    messages=["the qPCR design '~batch * condition' lets the effect of 'condition' depend on another column (batch x condition)"],
)
case(
    "qpcr_design_without_contrast_column",
    "The qPCR design adjusts for batch but leaves out the condition the contrast compares.",
    config={"qpcr": {"design": "~batch"}, "rnaseq": None},
    messages=["contrast 'lesional_vs_healthy' compares levels of 'condition', which the qPCR design '~batch' does not contain"],
)
case(
    "qpcr_design_blank_covariate",
    "The batch of sample L03 was left empty in the sheet.",
    files={"samples.tsv": sheet_with("batch", {"L03": ""})},
    config={"qpcr": {"design": "~batch + condition"}, "rnaseq": None},
    messages=["samples.tsv, line 10, column 'batch': sample has no value in column 'batch', which the qPCR design"],
)
case(
    "qpcr_design_continuous_covariate",
    "A numeric 'age' column in the design: accepted as a continuous covariate, with a note saying so.",
    files={"samples.tsv": map_lines(SHEET, lambda n, row: row + ("\tage" if n == 1 else f"\t{30 + 3 * n}"))},
    config={"qpcr": {"design": "~batch + age + condition"}, "rnaseq": None},
    expect="accept",
    messages=["qpcr.design: column 'age' holds only numbers, so the linear model takes it as a continuous covariate"],
)

# ---------------------------------------------------------------- qPCR Cq tables
case(
    "cq_not_a_number",
    "A Cq typed as 'abc' (and another as '2O.1' with a letter O).",
    files={"cq.tsv": set_field(set_field(CQ, 10, 4, "abc"), 20, 4, "2O.1")},
    config=QPCR_ONLY,
    messages=[
        "cq.tsv, line 10, column 'cq': Cq is not a number (found: 'abc'); expected a number, or Undetermined",
        "cq.tsv, line 20, column 'cq': Cq is not a number (found: '2O.1')",
    ],
    cli=True,
)
case(
    "cq_negative",
    "A negative Cq.",
    files={"cq.tsv": set_field(CQ, 5, 4, "-17.6")},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 5, column 'cq': Cq outside the possible range of a qPCR run (found: '-17.6'); expected a cycle number between 0 and 50"],
)
case(
    "cq_absurd",
    "A Cq of 187.3 (a typo for 18.73).",
    files={"cq.tsv": set_field(CQ, 2, 4, "187.3")},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 2, column 'cq': Cq outside the possible range of a qPCR run (found: '187.3')"],
)
case(
    "cq_sample_not_in_sheet",
    "Sample H02 is written 'H2' in the Cq table.",
    files={"cq.tsv": map_lines(CQ, lambda n, row: row.replace("\tH02\t", "\tH2\t"))},
    config=QPCR_ONLY,
    messages=[
        "cq.tsv, line 26, column 'sample': sample 'H2' is not in the sample sheet samples.tsv (did you mean 'H02'?)",
        "samples.tsv, line 3, column 'sample': sample 'H02' has no Cq values",
    ],
)
case(
    "cq_sheet_sample_without_data",
    "Sample L06 was not measured (its rows are missing from the Cq table).",
    files={"cq.tsv": drop_lines(CQ, lambda n, row: "\tL06\t" not in row)},
    config=QPCR_ONLY,
    messages=["samples.tsv, line 13, column 'sample': sample 'L06' has no Cq values (found: 'L06'); expected Cq values for every sample"],
)
case(
    "cq_missing_column",
    "The Cq column is headed 'value', which is not a known name for Cq.",
    files={"cq.tsv": CQ.replace("\tcq\n", "\tvalue\n", 1)},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 1: missing required column(s) cq", "(found: 'plate, well, sample, target, value')"],
)
case(
    "cq_reference_gene_absent",
    "The config names reference gene 'RPL0', which the table does not have.",
    config={"qpcr": {"reference_genes": ["GAPDH", "ACTB", "RPL0"]}, "rnaseq": None},
    messages=["column 'target': reference gene 'RPL0' is not a target of the Cq table(s) (did you mean 'RPLP0'?)"],
)
_NO_GAPDH_H01 = map_lines(
    CQ, lambda n, row: "\t".join(row.split("\t")[:4] + ["Undetermined"]) if "\tH01\tGAPDH\t" in row else row
)
case(
    "cq_reference_undetected_refused",
    "Every GAPDH replicate of H01 is Undetermined and the config says missing_reference: error.",
    files={"cq.tsv": _NO_GAPDH_H01},
    config={"qpcr": {"missing_reference": "error"}, "rnaseq": None},
    messages=[
        "cq.tsv, line 2, column 'cq': reference gene 'GAPDH' was not detected in any replicate of sample 'H01' (lines 2, 3, 4)",
        "qpcr.missing_reference: exclude",
    ],
)
case(
    "cq_reference_undetected_excluded",
    "Every GAPDH replicate of H01 is Undetermined, default missing_reference: exclude: accepted, H01 is excluded with a warning.",
    files={"cq.tsv": _NO_GAPDH_H01},
    config=QPCR_ONLY,
    expect="accept",
    messages=["WARNING: sample 'H01': reference gene 'GAPDH' was not detected in any replicate (cq.tsv, lines 2, 3, 4); the sample is excluded from every test"],
)
case(
    "cq_empty_target",
    "A row lost its target name.",
    files={"cq.tsv": set_field(CQ, 7, 3, "")},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 7, column 'target': target is empty"],
)
case(
    "cq_empty_file",
    "The Cq table is an empty file.",
    files={"cq.tsv": ""},
    config=QPCR_ONLY,
    messages=["cq.tsv: file is empty"],
)
case(
    "cq_header_only",
    "The Cq table has a header and no wells.",
    files={"cq.tsv": lines(CQ)[0] + "\n"},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 2: table has a header but no data rows"],
)
case(
    "cq_pipe_delimited",
    "The Cq table was exported with '|' as the delimiter.",
    files={"cq.tsv": CQ.replace("\t", "|")},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 1: the header has a single column", "delimited by tab, comma or semicolon", "'|'"],
)
case(
    "cq_space_delimited",
    "The Cq table's columns are separated by spaces.",
    files={"cq.tsv": CQ.replace("\t", " ")},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 1: the header has a single column", "spaces"],
)
case(
    "cq_decimal_comma_in_csv",
    "A comma-separated export whose Cq values use decimal commas, unquoted: 18,48 splits into two fields.",
    files={"cq.tsv": map_lines(CQ, lambda n, row: row.replace(".", ",").replace("\t", ","))},
    config=QPCR_ONLY,
    messages=["cq.tsv, line 2: row has 6 fields but the header has 5", "decimal comma"],
)
case(
    "cq_decimal_comma_mixed",
    "Most Cq values use points, two use commas: ambiguous, refused.",
    files={"cq.tsv": set_field(set_field(CQ, 3, 4, "18,42"), 8, 4, "21,5")},
    config=QPCR_ONLY,
    messages=[
        "cq.tsv, line 3, column 'cq': decimal comma mixed with decimal points in the same column is ambiguous (found: '18,42')",
        "cq.tsv, line 8, column 'cq'",
    ],
)
case(
    "cq_decimal_comma",
    "A tab-separated table using decimal commas throughout (European Excel): accepted with a note.",
    files={"cq.tsv": CQ.replace(".", ",")},
    config=QPCR_ONLY,
    expect="accept",
    messages=["cq.tsv: column 'cq' uses decimal commas; read 23,45 as 23.45"],
)
case(
    "cq_utf16_windows",
    "An instrument export in UTF-16 with Windows line endings: accepted with notes.",
    files={"cq.tsv": CQ.replace("\n", "\r\n").encode("utf-16")},
    config=QPCR_ONLY,
    expect="accept",
    messages=["cq.tsv: read as UTF-16", "cq.tsv: Windows line endings converted"],
)
case(
    "cq_utf8_bom_semicolons",
    "Excel 'CSV UTF-8' with semicolons and decimal commas (French locale): accepted with notes.",
    files={"cq.tsv": b"\xef\xbb\xbf" + CQ.replace(".", ",").replace("\t", ";").encode()},
    config=QPCR_ONLY,
    expect="accept",
    messages=["cq.tsv: UTF-8 byte-order mark removed", "uses decimal commas"],
)
case(
    "cq_trailing_empty_columns_and_rows",
    "Spreadsheet export with empty trailing columns and rows: accepted with a note.",
    files={"cq.tsv": "".join(row + "\t\t\n" for row in lines(CQ)) + "\t\t\t\t\t\t\t\n\n\t\t\n"},
    config=QPCR_ONLY,
    expect="accept",
    messages=["cq.tsv: 2 empty trailing column(s) ignored"],
)

# ---------------------------------------------------------------- instrument exports
# Raw exports from tests/data/formats (synthetic QuantStudio, CFX and RDML files) with their
# own sheet: the skin biopsies of quantstudio_results.csv, ctrl1-2 (healthy) and lesion1-2
# (lesional), with GAPDH as reference.
FORMATS = ROOT / "tests" / "data" / "formats"
QUANTSTUDIO = (FORMATS / "quantstudio_results.csv").read_bytes().decode("utf-8")
CFX = (FORMATS / "cfx_cq_results.csv").read_text(encoding="utf-8")
RDML = (FORMATS / "rdml_two_runs.xml").read_text(encoding="utf-8")
EXPORT_SHEET = join(
    ["sample\tcondition"] + [f"ctrl{i}\thealthy" for i in (1, 2)] + [f"lesion{i}\tlesional" for i in (1, 2)]
)


#: the first well of lesion2 in quantstudio_results.csv
LESION2_LINE = next(n for n, row in enumerate(QUANTSTUDIO.split("\r\n"), start=1) if ",lesion2," in row)


def export_config(*tables: str, plate_map: str | None = None) -> dict:
    qpcr = {"cq_tables": list(tables), "reference_genes": ["GAPDH"]}
    if plate_map:
        qpcr["plate_map"] = plate_map
    return {"markers": ["TGFB1", "COL1A1"], "qpcr": qpcr, "rnaseq": None}


def export_files(**extra: str | bytes) -> dict[str, str | bytes]:
    """The export cases' sheet and QuantStudio plate, plus the case's own files."""
    return {"samples.tsv": EXPORT_SHEET, "plate1.csv": QUANTSTUDIO.encode(), **extra}


def cfx_with_plate_map(plate_map: str) -> dict[str, str | bytes]:
    """Files of a CFX export without sample names (German locale) and its plate map."""
    return export_files(**{
        "cfx_cq_results_decimal_comma.csv": (FORMATS / "cfx_cq_results_decimal_comma.csv").read_bytes(),
        "plate_map.tsv": plate_map,
    })


def replace_crlf_line(text: str, number: int, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` once in 1-based line ``number`` of a CRLF text, keeping CRLF."""
    rows = text.split("\r\n")
    assert old in rows[number - 1], (number, rows[number - 1])
    rows[number - 1] = rows[number - 1].replace(old, new, 1)
    return "\r\n".join(rows)


case(
    "export_quantstudio_ct_not_a_number",
    "A QuantStudio results export whose CT was edited by hand in Excel to '18.6s' (a stray letter).",
    files={
        "samples.tsv": EXPORT_SHEET,
        "plate1.csv": replace_crlf_line(QUANTSTUDIO, 38, ",18.657,", ",18.6s,").encode(),
    },
    config=export_config("plate1.csv"),
    messages=["plate1.csv, line 38, column 'cq': Cq is not a number (found: '18.6s')"],
    cli=True,
)
case(
    "export_quantstudio_without_results_section",
    "The plate's setup was exported instead of its results: header block and [Sample Setup], no Cq.",
    files={
        "samples.tsv": EXPORT_SHEET,
        "plate1.csv": (
            QUANTSTUDIO.split("[Results]")[0]
            + "[Sample Setup]\r\nWell,Well Position,Sample Name,Target Name,Task,Reporter,Quencher\r\n"
            + "1,A1,std_10ng,GAPDH,STANDARD,SYBR,None\r\n17,B5,ctrl1,GAPDH,UNKNOWN,SYBR,None\r\n"
        ).encode(),
    },
    config=export_config("plate1.csv"),
    messages=["plate1.csv", "no [Results] section"],
)
case(
    "export_sample_not_in_sheet",
    "One well of a QuantStudio plate names its sample 'lesoin2' (a typo made when setting up the plate).",
    files={"samples.tsv": EXPORT_SHEET, "plate1.csv": replace_crlf_line(QUANTSTUDIO, LESION2_LINE, ",lesion2,", ",lesoin2,").encode()},
    config=export_config("plate1.csv"),
    messages=[f"plate1.csv, line {LESION2_LINE}, column 'sample': sample 'lesoin2' is not in the sample sheet"],
)
case(
    "export_cfx_cq_absurd",
    "A CFX export where a Cq of 16.53 was typed as 99 (above any real cycle count).",
    files=export_files(**{"cfx.csv": CFX.replace(",16.53,", ",99,", 1)}),
    config=export_config("plate1.csv", "cfx.csv"),
    messages=["cfx.csv, line 2, column 'cq'", "(found: '99')"],
)
case(
    "export_plate_map_missing_well",
    "A CFX export without sample names (German locale) whose plate map lost the row of well C3 (ctrl2).",
    files=cfx_with_plate_map(drop_lines((FORMATS / "plate_map.tsv").read_text(), lambda n, row: "\tC3\t" not in row)),
    config=export_config("plate1.csv", "cfx_cq_results_decimal_comma.csv", plate_map="plate_map.tsv"),
    messages=["cfx_cq_results_decimal_comma.csv, line 28, column 'sample': well C3 has no sample", "the plate map has no row for it"],
)
case(
    "export_rdml_truncated",
    "An RDML file cut short by an interrupted copy from the instrument PC.",
    files=export_files(**{"runs.xml": join(lines(RDML)[:100])}),
    config=export_config("plate1.csv", "runs.xml"),
    messages=["runs.xml, line 100: not well-formed XML: the file ends before its elements are closed (cut off?)"],
)
case(
    "export_rdml_unknown_sample_type",
    "An RDML file whose control samples have the type 'blank', which RDML does not define.",
    files=export_files(**{"runs.xml": RDML.replace("<type>nac</type>", "<type>blank</type>")}),
    config=export_config("plate1.csv", "runs.xml"),
    messages=["runs.xml, line 173", "(found: 'blank')"],
)
case(
    "export_quantstudio_utf16_accepted",
    "A QuantStudio TXT export written as UTF-16 with a byte-order mark and CRLF by a Windows PC: read, with a note.",
    files=export_files(**{"plate2.txt": (FORMATS / "quantstudio_utf16.txt").read_bytes()}),
    config=export_config("plate1.csv", "plate2.txt"),
    expect="accept",
    messages=["plate2.txt", "UTF-16"],
)
case(
    "export_cfx_decimal_comma_accepted",
    "A CFX export from a German-locale PC (semicolons, decimal commas, BOM) with a plate map: read, with a note.",
    files=cfx_with_plate_map((FORMATS / "plate_map.tsv").read_text()),
    config=export_config("plate1.csv", "cfx_cq_results_decimal_comma.csv", plate_map="plate_map.tsv"),
    expect="accept",
    messages=["cfx_cq_results_decimal_comma.csv", "decimal comma"],
)


# Instrument families added with the real-export suite (issue 13): fibroskin's own small files in
# each vendor layout (tests/data/formats/make_exports.py, skin biopsies ctrl1-3 / lesion1-3).
def _make_exports():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_exports", FORMATS / "make_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VENDORS = _make_exports()
VENDOR_SHEET = join(["sample\tcondition"] + [f"{sample}\thealthy" for sample in VENDORS.HEALTHY] + [f"{sample}\tlesional" for sample in VENDORS.LESIONAL])


def vendor_case_files(**files: str | bytes) -> dict[str, str | bytes]:
    return {"samples.tsv": VENDOR_SHEET, **files}


def vendor_bytes(write) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return write(Path(folder) / "file").read_bytes()


QS_HEADER_BLOCK = "* Block Type = 96-Well Block (0.2mL)\n* Chemistry = TAQMAN\n* Instrument Type = QuantStudio(TM) 6 Flex System\n"
case(
    "export_quantstudio_presence_absence",
    "A QuantStudio presence/absence run (calls per well, no quantification) given as a Cq table.",
    files=vendor_case_files(**{"plate.txt": QS_HEADER_BLOCK + "* Experiment Type = Presence/Absence\n\n[Results]\n"
        "Well\tWell Position\tOmit\tSample Name\tTarget Name\tTask\tReporter\tQuencher\tRn\tCall\tCT\n"
        "1\tA1\tfalse\tctrl1\tCOL1A1\tUNKNOWN\tFAM\tNFQ-MGB\t1.130\tPresence\t24.3\n"}),
    config=export_config("plate.txt"),
    messages=["plate.txt: QuantStudio presence/absence experiment (Experiment Type = Presence/Absence)", "no Cq-based quantification"],
)
case(
    "export_quantstudio_genotyping",
    "A QuantStudio SNP genotyping run (allele calls) given as a Cq table.",
    files=vendor_case_files(**{"plate.txt": QS_HEADER_BLOCK + "* Experiment Type = Genotyping\n\n[Results]\n"
        "Well\tWell Position\tOmit\tSample Name\tSNP Assay Name\tTask\tAllele1 Ct\tAllele2 Ct\tCall\n"
        "1\tA1\tfalse\tctrl1\tCYP19_2\tUNKNOWN\t27.546\t29.013\tHeterozygous\n"}),
    config=export_config("plate.txt"),
    messages=["plate.txt: QuantStudio genotyping experiment", "no Cq-based quantification"],
)
case(
    "export_quantstudio_repeated_columns_accepted",
    "A QuantStudio 7 Flex results-only export whose header repeats Target Name and Task, with quantities "
    "written with thousands separators (1,000.000): read, with notes.",
    files={"standards.txt": drop_lines((FORMATS / "quantstudio_results_only.txt").read_text(), lambda n, row: "UNKNOWN" not in row)},
    config={"qpcr": {"cq_tables": ["cq.tsv", "standards.txt"]}, "rnaseq": None},
    expect="accept",
    messages=["standards.txt: the header repeats column(s) Target Name, Task", "quantities written with thousands separators"],
    cli=False,
)
case(
    "export_workbook_without_results",
    "A 7500 workbook exported with the plate setup and raw fluorescence sheets only, no Results.",
    files=vendor_case_files(**{"plate.xlsx": vendor_bytes(VENDORS.workbook_without_results)}),
    config=export_config("plate.xlsx"),
    messages=["plate.xlsx: 7500 workbook holds only the Sample Setup and Multicomponent Data sheets", "no Ct values"],
)
case(
    "export_design_and_analysis_accepted",
    "A QuantStudio Design & Analysis workbook: unused wells of the layout (a target, no sample, UNDETERMINED) "
    "and standard amounts in the Standard Curve Result sheet: read, with notes.",
    files=vendor_case_files(**{"plate.xlsx": vendor_bytes(VENDORS.write_design_and_analysis_xlsx)}),
    config=export_config("plate.xlsx"),
    expect="accept",
    messages=["plate.xlsx: 1 unused well(s)", "taken from the 'Standard Curve Result' sheet"],
)
RAW_RDML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rdml xmlns="http://www.rdml.org" version="1.2">\n'
    '  <sample id="ctrl1"><type>unkn</type></sample>\n  <target id="COL1A1"><type>toi</type></target>\n'
    '  <experiment id="e1">\n    <run id="r1">\n      <react id="A1"><sample id="ctrl1"/><data><tar id="COL1A1"/>{curve}</data></react>\n'
    "    </run>\n  </experiment>\n</rdml>\n"
)
case(
    "export_rdml_raw_fluorescence_only",
    "An RDML file holding amplification curves whose Cq were never called.",
    files=vendor_case_files(**{"run.rdml": RAW_RDML.format(curve="<adp><cyc>1</cyc><fluor>0.1</fluor></adp><adp><cyc>2</cyc><fluor>0.2</fluor></adp>")}),
    config=export_config("run.rdml"),
    messages=["run.rdml: RDML file holds raw amplification fluorescence only, no Cq in any of its 1 reactions", "call them first"],
)
case(
    "export_rdml_melt_only",
    "An RDML file of a melting-curve run (no amplification, no Cq).",
    files=vendor_case_files(**{"run.rdml": RAW_RDML.format(curve="<mdp><tmp>65</tmp><fluor>0.9</fluor></mdp><mdp><tmp>66</tmp><fluor>0.8</fluor></mdp>")}),
    config=export_config("run.rdml"),
    messages=["run.rdml: RDML file holds melting-curve fluorescence only, no Cq"],
)
case(
    "export_rdml_biorad_zip_accepted",
    "A Bio-Rad CFX Manager RDML: a zip starting with PK\\x07\\x08 whose member is not rdml_data.xml: read, with notes.",
    files=vendor_case_files(**{"run.rdml": vendor_bytes(VENDORS.write_biorad_rdml)}),
    config=export_config("run.rdml"),
    expect="accept",
    messages=["run.rdml: RDML archive without rdml_data.xml (as Bio-Rad CFX Manager writes it); read its member experiment.xml"],
)
case(
    "export_rdml_lightcycler96_accepted",
    "A LightCycler 96 RDML: GUID sample ids, <dye>@<gene> targets, an unused channel, Cq 100 for no Cq and a Cq "
    "extrapolated past the last cycle: read, with notes.",
    files=vendor_case_files(**{"lc96.xml": (FORMATS / "rdml_lightcycler96.xml").read_text()}),
    config=export_config("lc96.xml"),
    expect="accept",
    messages=["Cq value(s) of 100 (LightCycler 96 for 'no Cq') read as not detected", "beyond the run's last cycle (45)", "FAM@GAPDH -> GAPDH"],
)
case(
    "export_cfx_without_targets",
    "A CFX Maestro export without target names, and no plate map to name them.",
    files=vendor_case_files(**{"cfx.csv": (FORMATS / "cfx_maestro_no_targets.csv").read_text()}),
    config=export_config("cfx.csv"),
    messages=["cfx.csv, column 'target': the export names no target for any of its 26 wells", "a plate map with columns well, fluor and target"],
    cli=True,
)
case(
    "export_cfx_targets_from_plate_map_accepted",
    "A CFX Maestro export without target names (two dyes per well) with a plate map naming the target of each well and dye.",
    files=vendor_case_files(**{"cfx.csv": (FORMATS / "cfx_maestro_no_targets.csv").read_text(), "targets.tsv": (FORMATS / "cfx_maestro_targets.tsv").read_text()}),
    config=export_config("cfx.csv", plate_map="targets.tsv"),
    expect="accept",
    messages=["cfx.csv: 26 well(s) took their target from the plate map targets.tsv"],
)
LC480_RAW = (
    "Raw Data \t\tExperiment - biopsies (Run on LCS480 1.5.0.39)\r\n"
    "SamplePos\tSampleName\tProg#\tSeg#\tCycle#\tTime\tTemp\t465-510\r\n"
    + "".join(f"A1\tctrl1\t2\t3\t{cycle}\t{691600 + cycle * 78533}\t71.79\t{15.5 + cycle / 10:.2f}\r\n" for cycle in range(1, 4))
)
case(
    "export_lightcycler480_raw_fluorescence",
    "The LightCycler 480 raw fluorescence export (readings per cycle) given instead of the Cp results.",
    files=vendor_case_files(**{"lc480.txt": LC480_RAW}),
    config=export_config("lc480.txt"),
    messages=["lc480.txt, line 1: LightCycler 480 raw fluorescence export", "call Cp first", "Abs Quant/2nd Derivative Max"],
    cli=True,
)
case(
    "export_lightcycler480_sample_information",
    "The LightCycler 480 sample information export (names and targets, no Cp) given as the Cq table.",
    files=vendor_case_files(**{"info.txt": (FORMATS / "lightcycler480_sample_info.txt").read_text()}),
    config=export_config("info.txt"),
    messages=["info.txt, line 1: LightCycler 480 sample information export", "it holds no Cp"],
)
case(
    "export_lightcycler480_abs_quant_accepted",
    "A LightCycler 480 Abs Quant/2nd Derivative Max export (Cp, no targets) with its sample information export as the plate map.",
    files=vendor_case_files(**{"lc480.txt": (FORMATS / "lightcycler480_abs_quant.txt").read_bytes(), "info.txt": (FORMATS / "lightcycler480_sample_info.txt").read_bytes()}),
    config=export_config("lc480.txt", plate_map="info.txt"),
    expect="accept",
    messages=["LightCycler 480 Abs Quant/2nd Derivative Max export", "Cp read as Cq", "Include = False"],
)
case(
    "export_sds7900_accepted",
    "An ABI 7900HT SDS 2.x RQ export (Endogenous Control task, a Summary section after the wells, 384-well numbering): read, "
    "with notes, and its Ct averages checked.",
    files=vendor_case_files(**{"sds.txt": (FORMATS / "sds7900_rq_results.txt").read_text()}),
    config=export_config("sds.txt"),
    expect="accept",
    messages=["sds.txt: ABI 7900HT SDS 2.1 RQ Results 1 export", "(Summary Data) repeats per-sample results and is not read"],
)

# ---------------------------------------------------------------- RNA-seq counts
case(
    "counts_negative",
    "A negative count.",
    files={"counts.tsv": set_field(COUNTS, 3, 2, "-44759")},
    config=RNASEQ_ONLY,
    messages=["counts.tsv, line 3, column 'H02': count is negative (found: '-44759'); expected a non-negative integer count"],
    cli=True,
)
case(
    "counts_fractional",
    "Estimated (fractional) counts from salmon given as counts.",
    files={"counts.tsv": set_field(COUNTS, 2, 1, "980.37")},
    config=RNASEQ_ONLY,
    messages=["counts.tsv, line 2, column 'H01': count is not a whole number (found: '980.37')", "round estimated counts"],
)
case(
    "counts_not_a_number",
    "A count cell holds '#N/A' (Excel).",
    files={"counts.tsv": set_field(COUNTS, 4, 7, "#N/A")},
    config=RNASEQ_ONLY,
    messages=["counts.tsv, line 4, column 'L01': count is not a number (found: '#N/A')"],
)
case(
    "counts_duplicate_gene",
    "A gene row pasted twice.",
    files={"counts.tsv": join(lines(COUNTS)[:6] + [lines(COUNTS)[2]] + lines(COUNTS)[6:])},
    config=RNASEQ_ONLY,
    messages=["counts.tsv, line 7, column 'gene_id': gene ID 'ENSG00000108821.5' appears twice (lines 3 and 7)"],
)
case(
    "counts_sheet_sample_without_column",
    "The count table lacks sample L06.",
    files={"counts.tsv": join(["\t".join(row.split("\t")[:-1]) for row in lines(COUNTS)])},
    config=RNASEQ_ONLY,
    messages=["counts.tsv, line 1: sample 'L06' of the sample sheet has no count column"],
)
case(
    "counts_column_not_in_sheet",
    "The count table's column for L06 is headed 'L6'.",
    files={"counts.tsv": COUNTS.replace("\tL06\n", "\tL6\n", 1)},
    config=RNASEQ_ONLY,
    messages=[
        "counts.tsv, line 1, column 'L6': count column 'L6' matches no sample of the sample sheet (did you mean 'L06'?)",
        "sample 'L06' of the sample sheet has no count column",
    ],
)
case(
    "counts_empty_file",
    "The count table is empty.",
    files={"counts.tsv": ""},
    config=RNASEQ_ONLY,
    messages=["counts.tsv: file is empty"],
)
case(
    "counts_header_only",
    "The count table has a header and no genes.",
    files={"counts.tsv": lines(COUNTS)[0] + "\n"},
    config=RNASEQ_ONLY,
    messages=["counts.tsv, line 1: file has a header but no gene rows"],
)
case(
    "counts_pipe_delimited",
    "The count table was exported with '|' as the delimiter.",
    files={"counts.tsv": COUNTS.replace("\t", "|")},
    config=RNASEQ_ONLY,
    messages=["counts.tsv, line 1: the header has a single column", "delimited by tab, comma or semicolon"],
)
case(
    "counts_windows_bom_trailing",
    "Count table saved by Excel: BOM, CRLF, trailing empty columns and rows: accepted with notes.",
    files={"counts.tsv": b"\xef\xbb\xbf" + "".join(row + "\t\t\r\n" for row in lines(COUNTS)).encode() + b"\t\t\t\r\n"},
    config=RNASEQ_ONLY,
    expect="accept",
    messages=["UTF-8 byte-order mark removed", "Windows line endings converted", "empty trailing column(s) ignored"],
)

# ---------------------------------------------------------------- RNA-seq upstream outputs
# Files in the layouts of salmon, STAR, HTSeq-count and nf-core/rnaseq, written by
# tests/data/upstream/make_files.py's writers: healthy samples take its ctrl_1/ctrl_2 files in
# turn, lesional ones case_1/case_2. The sheet names each sample's file (column counts_file).
def _load_upstream():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_files", ROOT / "tests" / "data" / "upstream" / "make_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UPSTREAM = _load_upstream()
TRUTH = UPSTREAM.transcript_truth()
SHEET_SAMPLES = [row.split("\t")[0] for row in lines(SHEET)[1:]]


def upstream_sample(sample: str) -> tuple[str, int]:
    """The make_files sample (and its position) whose files a sheet sample takes."""
    number = int(sample[1:])
    name = ("ctrl_" if sample.startswith("H") else "case_") + str(2 - number % 2)
    return name, UPSTREAM.SAMPLES.index(name)


def sheet_with_files(suffix: str) -> str:
    """The example sheet plus a counts_file column naming <sample><suffix>."""
    rows = lines(SHEET)
    return join([rows[0] + "\tcounts_file"] + [row + f"\t{row.split(chr(9))[0]}{suffix}" for row in rows[1:]])


def salmon_files(**replaced: str) -> dict[str, str]:
    files = {f"{s}.quant.sf": UPSTREAM.salmon_quant_sf(upstream_sample(s)[0], TRUTH) for s in SHEET_SAMPLES}
    files.update(replaced)
    return {"samples.tsv": sheet_with_files(".quant.sf"), **files}


def star_files() -> dict[str, str]:
    files = {f"{s}.ReadsPerGene.out.tab": UPSTREAM.star_reads_per_gene(upstream_sample(s)[1]) for s in SHEET_SAMPLES}
    return {"samples.tsv": sheet_with_files(".ReadsPerGene.out.tab"), **files}


def per_sample_config(**rnaseq) -> dict:
    return {"qpcr": None, "rnaseq": {"counts": None, **rnaseq}}


TX2GENE = UPSTREAM.tx2gene_csv(TRUTH)
WITH_TX2GENE = {"tx2gene.csv": TX2GENE}
LENGTH_SCALED = per_sample_config(tx2gene="tx2gene.csv", counts_from_abundance="lengthScaledTPM")
#: line of L03 in the sheet
L03_LINE = 1 + SHEET_SAMPLES.index("L03") + 1


def nfcore_table(counts: str, transform) -> str:
    """The example counts in nf-core/rnaseq's merged layout: gene_id, gene_name, samples."""
    rows = lines(counts)
    out = ["gene_id\tgene_name\t" + "\t".join(rows[0].split("\t")[1:])]
    for number, row in enumerate(rows[1:], start=1):
        fields = row.split("\t")
        out.append("\t".join([fields[0], f"GENE{number}"] + [transform(int(v)) for v in fields[1:]]))
    return join(out)


NFCORE_COUNTS = nfcore_table(COUNTS, lambda v: f"{v * 1.0137:.3f}")
NFCORE_LENGTHS = nfcore_table(COUNTS, lambda v: f"{1500 + v % 997}.25")
NFCORE_LENGTH_CONFIG = {"qpcr": None, "rnaseq": {"counts": "salmon.merged.gene_counts.tsv",
                                                   "lengths": "salmon.merged.gene_lengths.tsv"}}

case(
    "counts_file_missing",
    "Per-sample salmon files named in the sheet; L03's was never copied from the cluster.",
    files={name: text for name, text in salmon_files().items() if name != "L03.quant.sf"} | WITH_TX2GENE,
    config=LENGTH_SCALED,
    messages=[f"samples.tsv, line {L03_LINE}, column 'counts_file': sample 'L03': the counts file does not exist "
              "(paths resolve against the working directory"],
    cli=True,
)
case(
    "counts_file_unrecognised",
    "L03's counts_file is a spreadsheet export (gene,count) instead of salmon's quant.sf.",
    files=salmon_files(**{"L03.quant.sf": "gene,count\nTGFB1,1530\n"}) | WITH_TX2GENE,
    config=LENGTH_SCALED,
    messages=["L03.quant.sf, line 1: sample 'L03': the format of the counts file is not recognised "
              "(found: 'gene,count')"],
)
case(
    "counts_file_mixed_tools",
    "L03's counts_file is STAR's ReadsPerGene.out.tab, the others salmon's quant.sf.",
    files=salmon_files(**{"L03.quant.sf": UPSTREAM.star_reads_per_gene(2)}) | WITH_TX2GENE,
    config=LENGTH_SCALED,
    messages=[f"samples.tsv, line {L03_LINE}, column 'counts_file': sample 'L03' has a STAR ReadsPerGene.out.tab "
              "file, but sample 'H01' has a salmon quant.sf file"],
)
case(
    "counts_file_and_counts",
    "The sheet names per-sample files and the config still names the example's count table.",
    files=salmon_files() | WITH_TX2GENE,
    config={"qpcr": None, "rnaseq": {"tx2gene": "tx2gene.csv", "counts_from_abundance": "lengthScaledTPM"}},
    messages=["samples.tsv, line 1, column 'counts_file': the sample sheet has a 'counts_file' column and the config "
              "sets rnaseq.counts"],
)
_truncated = lines(UPSTREAM.salmon_quant_sf("case_1", TRUTH))
case(
    "quant_truncated",
    "L03's quant.sf was cut short by an interrupted copy: its last line ends after two fields.",
    files=salmon_files(**{"L03.quant.sf": "\n".join(_truncated[:-1] + ["\t".join(_truncated[-1].split("\t")[:2])])})
    | WITH_TX2GENE,
    config=LENGTH_SCALED,
    messages=[f"L03.quant.sf, line {len(_truncated)}: row has 2 tab-separated fields but the header has 5"],
)
case(
    "quant_not_a_number",
    "salmon wrote 'nan' as a TPM (a failed run was not noticed).",
    files=salmon_files(**{"L03.quant.sf": UPSTREAM.salmon_quant_sf("case_1", TRUTH).replace("22000.000000", "nan")})
    | WITH_TX2GENE,
    config=LENGTH_SCALED,
    messages=["L03.quant.sf, line 3, column 'TPM': value is not a number (found: 'nan')"],
)
_other_index = lines(UPSTREAM.salmon_quant_sf("case_1", TRUTH))
_other_index[2], _other_index[3] = _other_index[3], _other_index[2]
case(
    "quant_other_index",
    "L03 was quantified against another salmon index: its transcripts come in another order.",
    files=salmon_files(**{"L03.quant.sf": join(_other_index)}) | WITH_TX2GENE,
    config=LENGTH_SCALED,
    messages=["L03.quant.sf, line 3, column 'Name': the file lists other IDs than H01.quant.sf",
              "(found: 'ENST00000221930.6'); expected 'ENST00000474644.1'"],
)
case(
    "quant_without_tx2gene",
    "Per-sample salmon files without rnaseq.tx2gene.",
    files=salmon_files(),
    config=per_sample_config(counts_from_abundance="lengthScaledTPM"),
    messages=["column 'rnaseq.tx2gene': salmon quant.sf files estimate transcripts; summarising them to genes needs "
              "a transcript-to-gene table"],
)
case(
    "tx2gene_missing_transcript",
    "tx2gene made from an older annotation: it lacks TGFB1's transcript, which has reads.",
    files=salmon_files() | {"tx2gene.csv": "".join(row + "\n" for row in lines(TX2GENE) if "ENST00000221930" not in row)},
    config=LENGTH_SCALED,
    messages=["tx2gene.csv, column 'transcript': transcript 'ENST00000221930.6' (H01.quant.sf, line 4) is not in "
              "tx2gene but has 3.36e+06 estimated reads (sample 'L01')"],
)
case(
    "tx2gene_versions_differ",
    "tx2gene without version suffixes (Ensembl GTF) for a salmon index with them (GENCODE).",
    files=salmon_files() | {"tx2gene.csv": join([row.split(".")[0] + "," + row.split(",")[1] if "." in row else row
                                                 for row in lines(TX2GENE)])},
    config=LENGTH_SCALED,
    messages=["none of the 10 transcripts of the quantification files is in the first column of tx2gene (they match "
              "once version suffixes such as '.2' are removed"],
)
case(
    "quant_length_offsets_stock_engine",
    "Per-sample salmon files with the default counts_from_abundance: no (length offsets) and the stock "
    "pydeseq2 engine, which has no normalization factors.",
    files=salmon_files() | WITH_TX2GENE,
    config=per_sample_config(tx2gene="tx2gene.csv", engine="pydeseq2"),
    messages=["column 'rnaseq.engine': length offsets need rnaseq.engine: fast: salmon quant.sf files "
              "with rnaseq.counts_from_abundance: no"],
    cli=True,
)
case(
    "quant_length_offsets_accepted",
    "Per-sample salmon files with the default counts_from_abundance: no: estimated counts with their average "
    "transcript lengths as DESeq2's offsets.",
    files=salmon_files() | WITH_TX2GENE,
    config=per_sample_config(tx2gene="tx2gene.csv"),
    expect="accept",
    messages=["RNA-seq input: salmon quant.sf files, one per sample, through tximport (countsFromAbundance no)"],
)
case(
    "quant_length_scaled_accepted",
    "Per-sample salmon files with counts_from_abundance: lengthScaledTPM: read, summarised and rounded.",
    files=salmon_files() | WITH_TX2GENE,
    config=LENGTH_SCALED,
    expect="accept",
    messages=["RNA-seq input: salmon quant.sf files, one per sample, through tximport (countsFromAbundance "
              "lengthScaledTPM)", "rounded to integers as R's round() does (halves to even)"],
)
case(
    "star_strandedness_contradicted",
    "STAR counts of a reverse-stranded (dUTP) library with rnaseq.strandedness: forward.",
    files=star_files(),
    config=per_sample_config(strandedness="forward"),
    messages=["H01.ReadsPerGene.out.tab, column 'forward (3rd column)': the counts say the library is "
              "reverse-stranded in 12 of 12 samples (share of the stranded counts on the forward strand: H01 2.4%",
              "(this file and 11 more)", "expected rnaseq.strandedness: reverse"],
    cli=True,
)
case(
    "star_strandedness_missing",
    "STAR counts without rnaseq.strandedness: which of its three columns to use is not said.",
    files=star_files(),
    config=per_sample_config(),
    messages=["column 'rnaseq.strandedness': STAR ReadsPerGene.out.tab holds three count columns; the config does not "
              "say which to use (the counts look reverse)"],
)
case(
    "star_unstranded_setting_accepted",
    "STAR counts of a reverse-stranded library with strandedness: unstranded: read, with a note.",
    files=star_files(),
    config=per_sample_config(strandedness="unstranded"),
    expect="accept",
    messages=["NOTE: the counts say the library is reverse-stranded in 12 of 12 samples",
              "summary rows dropped, not genes (N_unmapped, N_multimapping, N_noFeature, N_ambiguous)"],
)
case(
    "star_with_counts_from_abundance",
    "STAR counts with counts_from_abundance: lengthScaledTPM, which applies to quantifiers only.",
    files=star_files(),
    config=per_sample_config(strandedness="reverse", counts_from_abundance="lengthScaledTPM"),
    messages=["rnaseq.counts_from_abundance lengthScaledTPM applies to transcript quantifiers"],
)
case(
    "htseq_accepted",
    "HTSeq-count files, one per sample: read, its __ summary rows dropped and reported.",
    files={"samples.tsv": sheet_with_files(".counts.txt")}
    | {f"{s}.counts.txt": UPSTREAM.htseq_count(upstream_sample(s)[1]) for s in SHEET_SAMPLES},
    config=per_sample_config(),
    expect="accept",
    messages=["HTSeq-count: summary rows dropped, not genes (__no_feature, __ambiguous, __too_low_aQual, "
              "__not_aligned, __alignment_not_unique): H01: __no_feature 170"],
)
case(
    "counts_summary_rows_accepted",
    "A count table merged by hand from HTSeq-count files, its __ rows kept: dropped and reported.",
    files={"counts.tsv": COUNTS + "__no_feature\t" + "\t".join(["170"] * 12) + "\n"
           + "__ambiguous\t" + "\t".join(["12"] * 12) + "\n"},
    config=RNASEQ_ONLY,
    expect="accept",
    messages=["counts.tsv: 2 summary row(s) of STAR or HTSeq-count dropped, they are not genes"],
)
case(
    "nfcore_table_accepted",
    "nf-core/rnaseq's salmon.merged.gene_counts.tsv as written (gene_name column, estimated counts).",
    files={"salmon.merged.gene_counts.tsv": NFCORE_COUNTS},
    config={"qpcr": None, "rnaseq": {"counts": "salmon.merged.gene_counts.tsv"}},
    expect="accept",
    messages=["salmon.merged.gene_counts.tsv: read as nf-core/rnaseq salmon merged gene counts",
              "gene_name column taken as the genes' symbols", "rounded to integers as R's round() does"],
)
case(
    "nfcore_lengths_accepted",
    "nf-core/rnaseq's gene counts with its gene_lengths.tsv as rnaseq.lengths (length offsets).",
    files={"salmon.merged.gene_counts.tsv": NFCORE_COUNTS, "salmon.merged.gene_lengths.tsv": NFCORE_LENGTHS},
    config=NFCORE_LENGTH_CONFIG,
    expect="accept",
    messages=["salmon.merged.gene_counts.tsv: read as nf-core/rnaseq salmon merged gene counts"],
)
case(
    "nfcore_lengths_of_other_genes",
    "A lengths table of another run: its last gene is missing.",
    files={"salmon.merged.gene_counts.tsv": NFCORE_COUNTS,
           "salmon.merged.gene_lengths.tsv": join(lines(NFCORE_LENGTHS)[:-1])},
    config=NFCORE_LENGTH_CONFIG,
    messages=[f"salmon.merged.gene_lengths.tsv, column 'gene_id': gene '{lines(COUNTS)[-1].split(chr(9))[0]}' of the "
              "count table has no lengths (1 gene(s) of the count table without lengths in all)"],
)
case(
    "nfcore_lengths_zero",
    "A lengths table with a length of 0 (edited by hand).",
    files={"salmon.merged.gene_counts.tsv": NFCORE_COUNTS,
           "salmon.merged.gene_lengths.tsv": set_field(NFCORE_LENGTHS, 5, 4, "0")},
    config=NFCORE_LENGTH_CONFIG,
    messages=["salmon.merged.gene_lengths.tsv, line 5, column 'H03': length is not positive (found: '0'); expected a "
              "positive number (an average transcript length)"],
)
case(
    "nfcore_tpm_as_counts",
    "nf-core/rnaseq's salmon.merged.gene_tpm.tsv given instead of gene_counts.tsv.",
    files={"salmon.merged.gene_tpm.tsv": nfcore_table(
        join([lines(COUNTS)[0], *(row for row in lines(COUNTS)[1:3])]), lambda v: "500000.000")},
    config={"qpcr": None, "rnaseq": {"counts": "salmon.merged.gene_tpm.tsv"}},
    messages=["salmon.merged.gene_tpm.tsv, line 1, column 'H01': every sample column sums to 1,000,000: these are TPM"],
)
case(
    "counts_min_samples_too_many",
    "rnaseq.min_samples larger than the number of samples: the prefilter would keep nothing.",
    config={"qpcr": None, "rnaseq": {"min_samples": 20}},
    messages=["column 'rnaseq.min_samples': rnaseq.min_samples is 20 but the count table has 12 samples"],
)

# ---------------------------------------------------------------- RNA-seq design
case(
    "design_names_missing_column",
    "The design formula names 'bacth'.",
    config={"rnaseq": {"design": "~bacth + condition"}, "qpcr": None},
    messages=["the design formula '~bacth + condition' names 'bacth', which is not a column of the sample sheet (did you mean 'batch'?)"],
)
case(
    "design_not_full_rank",
    "Batch confounded with condition: every healthy sample in run1, every lesional in run2.",
    files={"samples.tsv": sheet_with("batch", {**{f"H0{i}": "run1" for i in range(1, 7)}, **{f"L0{i}": "run2" for i in range(1, 7)}})},
    config={"rnaseq": {"design": "~batch + condition"}, "qpcr": None},
    messages=["the design '~batch + condition' is not full rank", "'batch' is confounded with 'condition'"],
)
case(
    "design_without_contrast_column",
    "The design '~batch' does not contain the contrast column.",
    config={"rnaseq": {"design": "~batch"}, "qpcr": None},
    messages=["contrast 'lesional_vs_healthy' compares levels of 'condition', which the design '~batch' does not contain"],
)

# Paired lesional / non-lesional skin of two patients, four more lesional patients, four
# healthy donors: the example's 12 samples relabelled.
NESTED_SHEET = join(
    ["sample\tcondition\tpatient\tbatch\tgroup\tind\tlesion"]
    + [f"H0{i}\thealthy\tdonor_H0{i}\trun{1 + (i > 2)}\thealthy\t1\tnon-lesional" for i in range(1, 5)]
    + ["H05\tnon-lesional\tP1\trun2\tpatient\t1\tnon-lesional", "H06\tnon-lesional\tP2\trun2\tpatient\t2\tnon-lesional",
       "L01\tlesional\tP1\trun1\tpatient\t1\tlesional", "L02\tlesional\tP2\trun1\tpatient\t2\tlesional"]
    + [f"L0{i}\tlesional\tP{i}\trun{1 + (i > 4)}\tpatient\t{i}\tlesional" for i in range(3, 7)]
)
case(
    "design_patients_and_healthy_donors",
    "Paired lesional / non-lesional skin of patients plus unpaired healthy donors, design '~patient + condition': "
    "each healthy donor is a patient level of one sample, so the healthy level duplicates them.",
    files={"samples.tsv": NESTED_SHEET},
    config={"rnaseq": {"design": "~patient + condition"}, "qpcr": None},
    messages=["the design '~patient + condition' is not full rank", "the model columns",
              "patient_donor_H02_vs_P1", "individuals nested within groups",
              "'~group + group:C(ind) + group:lesion'"],
)
case(
    "design_nested_with_levels_contrast",
    "The nested coding of patients and donors, tested as target vs reference of 'lesion' (no such coefficient: "
    "the model matrix is R's user-supplied kind).",
    files={"samples.tsv": NESTED_SHEET},
    config={"rnaseq": {"design": "~group + group:C(ind) + group:lesion"}, "qpcr": None,
            "contrasts": {"lesional_vs_healthy": None,
                          "lesional_vs_non-lesional": {"column": "lesion", "reference": "non-lesional",
                                                       "target": "lesional"}}},
    messages=["contrast 'lesional_vs_non-lesional': only list and numeric contrasts (or a coefficient name) are "
              "supported for a user-supplied model matrix",
              "expected a contrast of the coefficients Intercept, grouppatient"],
)
case(
    "design_nested_by_coefficient",
    "The nested coding tested by its coefficient: accepted, with a note on the dropped all-zero columns.",
    files={"samples.tsv": NESTED_SHEET},
    config={"rnaseq": {"design": "~group + group:C(ind) + group:lesion"}, "qpcr": None,
            "contrasts": {"lesional_vs_healthy": None,
                          "lesional_vs_non-lesional": {"column": "lesion", "reference": "non-lesional",
                                                       "target": "lesional", "name": "grouppatient.lesionlesional"}}},
    expect="accept",
    messages=["rnaseq.design: the all-zero model columns grouphealthy.ind2", "are dropped (individuals nested within "
              "groups"],
)
case(
    "design_continuous_covariate",
    "An age column of numbers in '~age + condition': accepted, as a continuous covariate, with a note.",
    files={"samples.tsv": join([lines(SHEET)[0] + "\tage"] + [row + f"\t{30 + 3 * n}" for n, row in
                                                              enumerate(lines(SHEET)[1:])])},
    config={"rnaseq": {"design": "~age + condition"}, "qpcr": None},
    expect="accept",
    messages=["rnaseq.design: column 'age' holds only numbers, so DESeq2 takes it as a continuous covariate"],
)
case(
    "contrast_coefficient_unknown",
    "The coefficient to test is misspelled ('healty').",
    config={"qpcr": None, "contrasts": {"lesional_vs_healthy": {"column": "condition", "reference": "healthy",
                                                                "target": "lesional",
                                                                "name": "condition_lesional_vs_healty"}}},
    messages=["column 'contrasts.lesional_vs_healthy': contrast 'lesional_vs_healthy': 'condition_lesional_vs_healty' "
              "is not a coefficient of the fit (resultsNames: Intercept, condition_lesional_vs_healthy)"],
)
case(
    "contrast_weights_wrong_length",
    "A numeric contrast with three weights for a design of two coefficients.",
    config={"qpcr": None, "contrasts": {"lesional_vs_healthy": {"column": "condition", "reference": "healthy",
                                                                "target": "lesional", "weights": [0, 1, 1]}}},
    messages=["a numeric contrast needs one weight per coefficient (2: Intercept, condition_lesional_vs_healthy), got 3"],
)
case(
    "contrast_two_tests",
    "A contrast that names a coefficient and also gives weights.",
    config={"qpcr": None, "contrasts": {"lesional_vs_healthy": {
        "column": "condition", "reference": "healthy", "target": "lesional",
        "name": "condition_lesional_vs_healthy", "weights": [0, 1]}}},
    messages=["column 'contrasts.lesional_vs_healthy': contrast 'lesional_vs_healthy' gives name and weights: one "
              "RNA-seq test per contrast"],
)
case(
    "contrast_less_abs_without_threshold",
    "alt_hypothesis lessAbs (is the change smaller than a threshold?) without a threshold.",
    config={"qpcr": None, "contrasts": {"lesional_vs_healthy": {
        "column": "condition", "reference": "healthy", "target": "lesional", "alt_hypothesis": "lessAbs"}}},
    messages=["column 'contrasts.lesional_vs_healthy.lfc_threshold': contrast 'lesional_vs_healthy' tests "
              "alt_hypothesis lessAbs with lfc_threshold 0 (found: 0); expected a positive lfc_threshold"],
)
case(
    "lrt_without_reduced",
    "rnaseq.test: lrt without the reduced design.",
    config={"qpcr": None, "rnaseq": {"test": "lrt"}},
    messages=["column 'rnaseq.reduced': rnaseq.test is lrt but no reduced design is given"],
)
case(
    "lrt_with_threshold",
    "A log2 fold-change threshold under the likelihood ratio test.",
    config={"qpcr": None, "rnaseq": {"test": "lrt", "reduced": "~1"}, "contrasts": {"lesional_vs_healthy": {
        "column": "condition", "reference": "healthy", "target": "lesional", "lfc_threshold": 1}}},
    messages=["contrast 'lesional_vs_healthy' sets lfc_threshold / alt_hypothesis but rnaseq.test is lrt"],
)
case(
    "lrt_reduced_not_nested",
    "The reduced design '~batch' names a column the design '~condition' does not have.",
    config={"qpcr": None, "rnaseq": {"test": "lrt", "reduced": "~batch"}},
    messages=["column 'rnaseq.reduced': the reduced design '~batch' does not fit the design '~condition': the following "
              "variables in the reduced formula are not in the full formula: batch"],
)
case(
    "lrt_reduced_equals_design",
    "The reduced design is the design itself: no degree of freedom to test.",
    config={"qpcr": None, "rnaseq": {"test": "lrt", "reduced": "~condition"}},
    messages=["less than one degree of freedom: the reduced design must have fewer coefficients than the full design "
              "(2 vs 2)"],
)
case(
    "lrt_reduced_misspelled_column",
    "The reduced design names 'patiend'.",
    config={"qpcr": None, "rnaseq": {"test": "lrt", "design": "~patient + condition", "reduced": "~patiend"}},
    messages=["the reduced design '~patiend' names 'patiend', which is not a column of the sample sheet"],
)

# ---------------------------------------------------------------- config
case(
    "config_key_misspelled",
    "qpcr.max_cq typed as max_cqq.",
    config={"qpcr": {"max_cqq": 30}},
    messages=["config key 'qpcr.max_cqq' is not known (did you mean 'max_cq'?)"],
    cli=True,
)
case(
    "config_top_key_misspelled",
    "The top-level key 'samples' typed as 'sample'.",
    config={"samples": None, "sample": "samples.tsv"},
    messages=["config key 'sample' is not known (did you mean 'samples'?)"],
)
case(
    "config_contrast_key_misspelled",
    "A contrast's 'reference' typed as 'refrence'.",
    config={"contrasts": {"lesional_vs_healthy": {"reference": None, "refrence": "healthy"}}},
    messages=["config key 'contrasts.lesional_vs_healthy.refrence' is not known (did you mean 'reference'?)"],
)
case(
    "config_wrong_type",
    "max_cq given as text.",
    config={"qpcr": {"max_cq": "thirty"}},
    messages=["config key 'qpcr.max_cq': 'thirty' is not of type 'number'"],
)
case(
    "config_unknown_test",
    "A statistical test the workflow does not offer.",
    config={"qpcr": {"test": "ttest"}},
    messages=["config key 'qpcr.test': 'ttest' is not one of ['welch', 'mannwhitney', 'paired_t', 'wilcoxon']"],
)
case(
    "config_path_missing",
    "The config names a second Cq table that does not exist.",
    config={"qpcr": {"cq_tables": ["cq.tsv", "cq_plate2.tsv"]}},
    messages=["config key 'qpcr.cq_tables' names the file 'cq_plate2.tsv', which does not exist"],
)


# ---------------------------------------------------------------- sample sheets as spreadsheets
import sys  # noqa: E402 - the workbook writer lives with the tests

sys.path.insert(0, str(ROOT / "tests"))
from spreadsheet_files import ods_bytes, xlsx_bytes  # noqa: E402


def sheet_rows(text: str = SHEET, offset_columns: int = 0) -> list[list[str]]:
    """A TSV sample sheet as spreadsheet rows, optionally starting in a later column."""
    return [[""] * offset_columns + row.split("\t") for row in lines(text)]


SPREADSHEET_CONFIG = {"samples": "samples.xlsx", "samples_sheet": "Samples"}
case(
    "sheet_xlsx_accepted",
    "The sheet is kept in Excel: a title row above the table, the table starting in column B, on the "
    "workbook's second sheet 'Samples' (config samples_sheet); read like the TSV.",
    files={"samples.xlsx": xlsx_bytes({"Notes": [["cohort of 2024"]],
                                       "Samples": [["", "scleromyxedema cohort"]] + sheet_rows(offset_columns=1)})},
    config=SPREADSHEET_CONFIG,
    expect="accept",
    messages=["samples.xlsx: read sheet 'Samples' of 2"],
)
case(
    "sheet_xlsx_duplicate_sample",
    "In the Excel sheet, H04 was typed as H03: errors name the sheet, the row as Excel numbers it and the "
    "column by header and letter.",
    files={"samples.xlsx": xlsx_bytes({"Notes": [["cohort of 2024"]],
                                       "Samples": [["", "scleromyxedema cohort"]]
                                       + sheet_rows(SHEET.replace("H04\t", "H03\t"), offset_columns=1)})},
    config=SPREADSHEET_CONFIG,
    messages=[
        "samples.xlsx (sheet 'Samples'), row 6, column 'sample' (B): sample ID is used more than once (rows 5, 6)",
        "cq.tsv, line 74, column 'sample': sample 'H04' is not in the sample sheet samples.xlsx (sheet 'Samples')",
    ],
    cli=True,
)
case(
    "sheet_xlsx_sheet_misspelled",
    "The config names the sheet 'samples' but the workbook calls it 'Samples'.",
    files={"samples.xlsx": xlsx_bytes({"Notes": [["cohort of 2024"]], "Samples": sheet_rows()})},
    config={"samples": "samples.xlsx", "samples_sheet": "sample"},
    messages=["samples.xlsx, column 'samples_sheet': the workbook has no sheet 'sample' (did you mean 'Samples'?)",
              "expected one of its sheets: Notes, Samples"],
)
case(
    "sheet_ods_condition_missing",
    "An OpenDocument sheet (LibreOffice) whose condition cell of L02 was left empty.",
    files={"samples.ods": ods_bytes({"Sheet1": sheet_rows(sheet_with("condition", {"L02": ""}))})},
    config={"samples": "samples.ods"},
    messages=["samples.ods (sheet 'Sheet1'), row 9, column 'condition' (B): sample 'L02' has no condition: "
              "fill the condition column with 'lesional' or 'healthy'"],
)
case(
    "sheet_xlsx_saved_as_tsv",
    "An Excel workbook saved under the name samples.tsv: recognised by its content and read.",
    files={"samples.tsv": xlsx_bytes({"Sheet1": sheet_rows()})},
    config=QPCR_ONLY,
    expect="accept",
    messages=["samples.tsv: read sheet 'Sheet1' of 1"],
)
case(
    "sheet_condition_empty",
    "The sheet as `fibroskin init` writes it, run before the condition column was filled.",
    files={"samples.tsv": join([row.split("\t")[0] + "\tcondition" if number == 1 else row.split("\t")[0] + "\t"
                                for number, row in enumerate(lines(SHEET), start=1)])},
    config=QPCR_ONLY,
    messages=["samples.tsv, line 2, column 'condition': the 'condition' column of the sample sheet is empty: "
              "fill the condition column with 'lesional' or 'healthy'"],
    cli=True,
)


def write_cases() -> None:
    for old in HERE.iterdir():
        if old.is_dir() and (old / "case.yaml").exists():
            shutil.rmtree(old)
    for spec in CASES:
        folder = HERE / spec["name"]
        folder.mkdir()
        for name, content in spec["files"].items():
            data = content if isinstance(content, bytes) else content.encode()
            (folder / name).write_bytes(data)
        meta = {key: spec[key] for key in ("description", "config", "expect", "messages", "cli")}
        meta["files"] = sorted(spec["files"])
        (folder / "case.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100))
    base = HERE / "base"
    base.mkdir(exist_ok=True)
    (base / "samples.tsv").write_text(SHEET)
    (base / "cq.tsv").write_text(CQ)
    (base / "counts.tsv").write_text(COUNTS)


if __name__ == "__main__":
    write_cases()
    print(f"{len(CASES)} cases written to {HERE}")
