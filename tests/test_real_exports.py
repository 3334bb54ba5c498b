"""Every real instrument export of ``../shared/data/qpcr_exports``: read right, or refused for the real reason.

For each file that carries Cq values, every well's target, sample, Cq, task and quantity must
equal an independent parse written here with the standard library, openpyxl and xlrd (never
fibroskin's readers). Files without Cq values must be refused with a message that names the
real reason. The files are read in place (``shared_data``); they are never copied into the
repository.
"""

from __future__ import annotations

import csv
import math
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest

from conftest import shared_data
from fibroskin.errors import InputErrors

EXPORTS = "qpcr_exports"
# openpyxl (the independent parse) warns that Design & Analysis workbooks carry no default style
pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")
RDML = "{http://www.rdml.org}"

# --------------------------------------------------------------------------- independent parses
#
# Each returns one row per well that enters the analysis: well, sample, target, cq (NaN = no
# Cq), task (unknown | standard | ntc), quantity (input amount of a standard, NaN otherwise).
# What a reader must leave out is left out here on the file's own evidence: wells the user
# omitted, empty and unused wells (no sample, no Cq), unused RDML channels.

TASKS = {"UNKNOWN": "unknown", "STANDARD": "standard", "NTC": "ntc", "Unkn": "unknown", "Std": "standard"}


def _number(text: object) -> float:
    """A number as the instrument printed it: thousands separators removed; no Cq -> NaN."""
    if text is None:
        return math.nan
    if isinstance(text, (int, float)):
        return float(text)
    text = str(text).strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        return math.nan


def _frame(rows: list[dict]) -> pd.DataFrame:
    columns = ["plate", "well", "sample", "target", "cq", "task", "quantity"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["plate"] = frame["plate"].fillna("")
    return frame


def quantstudio_text(path: Path) -> pd.DataFrame:
    """The ``[Results]`` section of an Applied Biosystems TXT export (csv module, tab)."""
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    start = lines.index("[Results]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    table = list(csv.reader(lines[start:end], delimiter="\t"))
    header = table[0]
    column = {name: header.index(name) for name in reversed(header)}  # first occurrence wins
    cq_column = next(name for name in ("CT", "Ct", "Cq", "CRT") if name in column)
    rows = []
    for cells in table[1:]:
        if not any(cells):
            continue
        cell = lambda name: cells[column[name]].strip() if column[name] < len(cells) else ""  # noqa: E731
        if cell("Omit") == "true" or (cell("Sample Name") == "" and cell("Target Name") == ""):
            continue
        task = TASKS[cell("Task")]
        if task == "unknown" and cell("Sample Name") == "" and cell(cq_column) == "Undetermined":
            continue
        rows.append(
            {
                "well": cell("Well Position"),
                "sample": cell("Sample Name"),
                "target": cell("Target Name"),
                "cq": _number(cell(cq_column)),
                "task": task,
                "quantity": _number(cell("Quantity")) if task == "standard" else math.nan,
            }
        )
    return _frame(rows)


def _sheet_rows(path: Path, sheet: str) -> tuple[list[str], list[tuple]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(workbook[sheet].iter_rows(values_only=True))
    workbook.close()
    start = next(i for i, row in enumerate(rows) if row and row[0] in ("Well", "Sample"))
    header = [str(name) for name in rows[start]]
    body = []
    for row in rows[start + 1 :]:
        if not any(cell not in (None, "") for cell in row) or (header[0] == "Well" and not re.fullmatch(r"\d+(\.0)?", str(row[0]))):
            break  # the table ends at the first empty row or footer line ("Analysis Type", ...)
        body.append(tuple(row) + (None,) * (len(header) - len(row)))
    return header, body


def quantstudio_xlsx(path: Path) -> pd.DataFrame:
    """The ``Results`` sheet of a QuantStudio 6/7 Flex or 12K Flex XLSX export (openpyxl)."""
    header, body = _sheet_rows(path, "Results")
    column = {name: header.index(name) for name in reversed(header)}
    cq_column = next(name for name in ("CT", "Ct", "Cq", "CRT") if name in column)
    rows = []
    for row in body:
        if str(row[column["Omit"]]).lower() == "true":
            continue
        task = TASKS[row[column["Task"]]]
        rows.append(
            {
                "well": row[column["Well Position"]],
                "sample": str(row[column["Sample Name"]] or ""),
                "target": row[column["Target Name"]],
                "cq": _number(row[column[cq_column]]),
                "task": task,
                "quantity": _number(row[column["Quantity"]]) if task == "standard" else math.nan,
            }
        )
    return _frame(rows)


def design_and_analysis(path: Path) -> pd.DataFrame:
    """Design & Analysis 2.x: wells from ``Results``, standard quantities from ``Standard Curve
    Result`` (per well) or, in relative-quantification files, ``Replicate Group Result``."""
    import openpyxl

    header, body = _sheet_rows(path, "Results")
    column = {name: i for i, name in enumerate(header)}
    sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
    quantity: dict[tuple[str, str], float] = {}
    if "Standard Curve Result" in sheets:
        curve_header, curve_body = _sheet_rows(path, "Standard Curve Result")
        at = {name: i for i, name in enumerate(curve_header)}
        for row in curve_body:
            if row[at["Task"]] == "STANDARD":
                quantity[("well", row[at["Well Position"]], row[at["Target"]])] = _number(row[at["Quantity"]])
    else:
        group_header, group_body = _sheet_rows(path, "Replicate Group Result")
        at = {name: i for i, name in enumerate(group_header)}
        for row in group_body:
            quantity[("group", str(row[at["Sample"]] or ""), row[at["Target"]])] = _number(row[at["Quantity"]])
    rows = []
    for row in body:
        if str(row[column["Omit"]]).lower() == "true":
            continue
        task = TASKS[row[column["Task"]]]
        sample = str(row[column["Sample"]] or "")
        cq = _number(row[column["Cq"]])
        if task == "unknown" and sample == "" and math.isnan(cq):
            continue  # unused well: a target assigned, no sample, no Cq
        well, target = row[column["Well Position"]], row[column["Target"]]
        amount = math.nan
        if task == "standard":
            amount = quantity.get(("well", well, target), quantity.get(("group", sample, target), math.nan))
        rows.append({"well": well, "sample": sample, "target": target, "cq": cq, "task": task, "quantity": amount})
    return _frame(rows)


def cfx_maestro(path: Path, targets: dict[str, str]) -> pd.DataFrame:
    """Bio-Rad CFX Maestro Cq results CSV; targets by fluor, as the test's plate map gives them."""
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    rows = []
    for row in table:
        well = re.sub(r"^([A-Z])0*(\d+)$", r"\1\2", row["Well"])
        rows.append(
            {
                "well": well,
                "sample": row["Sample"],
                "target": targets[row["Fluor"]],
                "cq": _number(row["Cq"]),
                "task": TASKS[row["Content"]],
                "quantity": math.nan,
            }
        )
    return _frame(rows)


def _rdml_root(path: Path) -> ElementTree.Element:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            member = "rdml_data.xml" if "rdml_data.xml" in names else next(name for name in names if name.endswith(".xml"))
            return ElementTree.fromstring(archive.read(member))
    return ElementTree.parse(path).getroot()


def rdml(path: Path) -> pd.DataFrame:
    """RDML via ElementTree: every ``react/data`` with its sample's type and quantity.

    LightCycler 96 conventions, as the file itself shows them: samples named in
    ``description`` (ids are GUIDs), targets ``<dye>@<gene>`` (channels without a gene carry a
    GUID and are unused), Cq 100 = no Cq, Cq beyond the run's last cycle = extrapolated, no Cq.
    """
    root = _rdml_root(path)
    types = {"unkn": "unknown", "std": "standard", "ntc": "ntc", "ntp": "ntc", "nac": "ntc"}
    samples = {}
    for sample in root.findall(f"{RDML}sample"):
        description = (sample.findtext(f"{RDML}description") or "").strip()
        name = sample.get("id")
        if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", name) and description:
            name = description
        quantity = sample.findtext(f"{RDML}quantity/{RDML}value")
        samples[sample.get("id")] = (name, sample.findtext(f"{RDML}type").strip(), _number(quantity))
    is_lc96 = "Roche" in (root.findtext(f"{RDML}id/{RDML}publisher") or "")
    rows = []
    for run in root.iter(f"{RDML}run"):
        if run.find(f".//{RDML}cq") is None:
            continue  # a run of fluorescence curves without any Cq (Bio-Rad's second channel)
        columns = int(run.findtext(f"{RDML}pcrFormat/{RDML}columns") or 12)
        for react in run.findall(f"{RDML}react"):
            react_id = react.get("id")
            well = react_id if not react_id.isdigit() else f"{chr(65 + (int(react_id) - 1) // columns)}{(int(react_id) - 1) % columns + 1}"
            name, sample_type, quantity = samples[react.find(f"{RDML}sample").get("id")]
            if sample_type in ("pos", "opt"):
                continue  # positive controls are neither samples nor standards
            for data in react.findall(f"{RDML}data"):
                target = data.find(f"{RDML}tar").get("id")
                cq = _number(data.findtext(f"{RDML}cq"))
                if is_lc96:
                    dye, _, gene = target.partition("@")
                    if re.fullmatch(r"[0-9a-f-]{36}", gene):
                        continue  # a channel without a target
                    target = gene
                    cycles = max(float(cyc.text) for cyc in data.iter(f"{RDML}cyc"))
                    if cq > cycles:
                        cq = math.nan  # 100 = no Cq; above the last cycle = extrapolated
                if cq < 0:
                    cq = math.nan  # RDML: -1 = no Cq
                task = types[sample_type]
                rows.append(
                    {
                        "plate": run.get("id"),
                        "well": well,
                        "sample": name,
                        "target": target,
                        "cq": cq,
                        "task": task,
                        "quantity": quantity if task == "standard" and quantity > 0 else math.nan,
                    }
                )
    return _frame(rows)


def sds_7900(path: Path) -> pd.DataFrame:
    """ABI 7900HT SDS 2.x RQ export: the well table up to the blank line before the Summary.

    Wells are numbered 1-384 on each card/plate (row-major, 24 columns); the ``Filename``
    column names the plate each well belongs to.
    """
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("Well\t"))
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    table = list(csv.reader(lines[start:end], delimiter="\t"))
    column = {name: i for i, name in enumerate(table[0])}
    rows = []
    for cells in table[1:]:
        number = int(cells[column["Well"]])
        rows.append(
            {
                "plate": cells[column["Filename"]],
                "well": f"{chr(65 + (number - 1) // 24)}{(number - 1) % 24 + 1}",
                "sample": cells[column["Sample"]],
                "target": cells[column["Detector"]],
                "cq": _number(cells[column["Ct"]]),
                "task": "unknown",  # Target and Endogenous Control are both sample wells
                "quantity": math.nan,
            }
        )
    return _frame(rows)


CFX_MAESTRO_TARGETS = {"FAM": "GeneF", "VIC": "GeneV"}

#: file -> independent parse, for files that carry Cq values.
READ = {
    "allotropy_qs_example01.txt": quantstudio_text,
    "allotropy_qs_example04.txt": quantstudio_text,
    "allotropy_qs_example05.txt": quantstudio_text,
    "allotropy_qs_example06.txt": quantstudio_text,
    "allotropy_qs_example07.txt": quantstudio_text,
    "allotropy_qs_results_only.txt": quantstudio_text,
    "allotropy_qs_example08.xlsx": quantstudio_xlsx,
    "allotropy_qs_example09.xlsx": quantstudio_xlsx,
    "allotropy_qs_example10.xlsx": quantstudio_xlsx,
    "allotropy_qsda_QS1_Standard_Curve_example01.xlsx": design_and_analysis,
    "allotropy_qsda_QS7_Standard_Curve_example06.xlsx": design_and_analysis,
    "allotropy_qsda_QS3_Relative_Quantification_example02.xlsx": design_and_analysis,
    "allotropy_qsda_QS7Pro_Relative_Quantification_example11.xlsx": design_and_analysis,
    "allotropy_cfxmaestro_example01.csv": lambda path: cfx_maestro(path, CFX_MAESTRO_TARGETS),
    "RDMLpkg_BioRad_384.rdml": rdml,
    "RDMLpkg_BioRad_qPCR_melt.rdml": rdml,
    "RDMLpkg_lc96_bACTXY.rdml": rdml,
    "RDMLpkg_stepone_std.rdml": rdml,
    "RDMLpkg_test_rdml.rdml": rdml,
    "rdmlpython_quantification_methods.rdml": rdml,
    "ReadqPCR_example.txt": sds_7900,
}

#: file -> what the refusal must say (a regular expression).
REFUSED = {
    "allotropy_qs_example02.txt": r"presence/absence experiment.*no Cq-based quantification",
    "allotropy_qs_example03.txt": r"genotyping experiment.*no Cq-based quantification",
    "RDMLpkg_7500_std.xls": r"7500 .*Sample Setup and Multicomponent Data.*no Ct.*Results",
    "rdmlpython_matrix_gaps.rdml": r"raw amplification fluorescence only, no Cq",
    "rdmlpython_test_mca_1_raw_data.rdml": r"melting-curve fluorescence only, no Cq",
    "ReadqPCR_LC480_Example.txt": r"LightCycler 480 raw fluorescence.*call Cp",
    "ReadqPCR_LC480_Example_SampleInfo.txt": r"LightCycler 480 sample information.*no Cp",
}


def _read(name: str, tmp_path: Path):
    from fibroskin.io.instruments import read_export

    path = shared_data(EXPORTS, name)
    plate_map = None
    if name == "allotropy_cfxmaestro_example01.csv":
        plate_map = tmp_path / "targets.tsv"
        wells = sorted({row["Well"] for row in csv.DictReader(path.open(encoding="utf-8"))})
        plate_map.write_text(
            "well\tfluor\ttarget\n" + "".join(f"{well}\t{fluor}\t{target}\n" for well in wells for fluor, target in CFX_MAESTRO_TARGETS.items()),
            encoding="utf-8",
        )
    return path, read_export(path, plate_map=plate_map)


@pytest.mark.parametrize("name", sorted(READ))
def test_every_well_equals_an_independent_parse(name, tmp_path):
    path, export = _read(name, tmp_path)
    expected = READ[name](path)
    wells = export.wells
    key = ["plate", "well", "target"] if (expected["plate"] != "").any() else ["well", "target"]
    got = wells.sort_values(key + ["sample"]).reset_index(drop=True)
    expected = expected.sort_values(key + ["sample"]).reset_index(drop=True)
    assert len(got) == len(expected), (len(got), len(expected))
    for column in key + ["sample", "task"]:
        assert got[column].tolist() == expected[column].tolist(), column
    np.testing.assert_array_equal(got["cq"].to_numpy(float), expected["cq"].to_numpy(float))
    np.testing.assert_array_equal(got["quantity"].to_numpy(float), expected["quantity"].to_numpy(float))
    # every well's line points at that well in the file
    assert (wells["line"] >= 1).all() and wells["file"].eq(str(path)).all()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_files_without_cq_are_refused_for_the_real_reason(name):
    from fibroskin.io.instruments import read_qpcr_file

    with pytest.raises(InputErrors) as caught:
        read_qpcr_file(shared_data(EXPORTS, name))
    assert len(caught.value.errors) == 1
    assert re.search(REFUSED[name], str(caught.value.errors[0]), flags=re.S), str(caught.value.errors[0])


def test_every_file_of_the_folder_is_covered():
    folder = shared_data(EXPORTS)
    assert sorted(path.name for path in folder.iterdir()) == sorted([*READ, *REFUSED])


def test_refusals_are_true_to_the_files():
    """What the refusals say, checked on the files with other tools."""
    import xlrd

    book = xlrd.open_workbook(shared_data(EXPORTS, "RDMLpkg_7500_std.xls"), on_demand=True)
    assert book.sheet_names() == ["Sample Setup", "Multicomponent Data"]
    header = book.sheet_by_name("Sample Setup").row_values(7)
    assert "Target Name" in header and not {"Ct", "CT", "Cт"} & set(header)
    for name, element in (("rdmlpython_matrix_gaps.rdml", "adp"), ("rdmlpython_test_mca_1_raw_data.rdml", "mdp")):
        root = _rdml_root(shared_data(EXPORTS, name))
        assert not list(root.iter(f"{RDML}cq")) and list(root.iter(f"{RDML}{element}"))
    text = shared_data(EXPORTS, "allotropy_qs_example02.txt").read_text(encoding="utf-8")
    assert "* Experiment Type = Presence/Absence" in text
    raw = shared_data(EXPORTS, "ReadqPCR_LC480_Example.txt").read_text(encoding="utf-8").splitlines()
    assert raw[1].split("\t")[:5] == ["SamplePos", "SampleName", "Prog#", "Seg#", "Cycle#"]


def test_no_cq_conventions_are_written_in_the_notes(tmp_path):
    _, lc96 = _read("RDMLpkg_lc96_bACTXY.rdml", tmp_path)
    notes = "\n".join(lc96.notes)
    assert "Cq value(s) of 100 (LightCycler 96 for 'no Cq')" in notes
    assert "FAM@bACT -> bACT" in notes
    # the Cq extrapolated past cycle 50 (up to 73) are all in the channels without a target
    assert "4 dye channel(s) without an assigned target dropped" in notes
    assert set(lc96.wells["target"]) == {"bACT", "X", "Y", "IPC"}
    assert lc96.wells.loc[lc96.wells["cq_raw"] == "100", "cq"].isna().sum() == 3
    assert (lc96.wells["cq"].dropna() <= 50).all()
    _, thousands = _read("allotropy_qs_example04.txt", tmp_path)
    assert any("thousands separators" in note for note in thousands.notes)
    _, repeated = _read("allotropy_qs_results_only.txt", tmp_path)
    assert any("repeats column(s) Target Name, Task" in note and "same values" in note for note in repeated.notes)
    _, unused = _read("allotropy_qsda_QS7Pro_Relative_Quantification_example11.xlsx", tmp_path)
    assert any("3 unused well(s)" in note for note in unused.notes)
    _, no_quantity = _read("RDMLpkg_test_rdml.rdml", tmp_path)
    assert any("standard well(s) of" in note and "carry no quantity" in note for note in no_quantity.notes)
    _, bio_rad = _read("RDMLpkg_BioRad_qPCR_melt.rdml", tmp_path)
    assert any("run 'Amp Step 3_Cy5' holds fluorescence curves but no Cq" in note for note in bio_rad.notes)


def _curve(name: str, target: str, tmp_path: Path) -> tuple[pd.Series, pd.DataFrame]:
    from fibroskin.miqe import compare_instrument_values, fit_standard_curves

    _, export = _read(name, tmp_path)
    curve = fit_standard_curves(export.wells).set_index("target").loc[target]
    checks = compare_instrument_values(export.wells, export.instrument_values)
    return curve, checks[checks["target"] == target].set_index("item")


def test_standard_curves_equal_the_numbers_the_files_document(tmp_path):
    # QuantStudio 7 Flex, example04: the file prints slope -3.383, intercept 39.814, R² 0.997,
    # efficiency 97.505 (3 decimals), computed by the software from Ct values it prints to 3
    # decimals. Slope, intercept and R² equal at that precision; the efficiency fitted from the
    # printed Cts, 97.501, is within the +-0.04 their rounding allows.
    curve, checks = _curve("allotropy_qs_example04.txt", "RNase P", tmp_path)
    assert (round(curve["slope"], 3), round(curve["intercept"], 3), round(curve["r_squared"], 3)) == (-3.383, 39.814, 0.997)
    assert round(curve["efficiency_pct"], 3) == 97.501
    assert checks.at["efficiency_pct", "file_value"] == 97.505 and checks.at["efficiency_pct", "agrees"]
    assert "rounding of the printed Cq allows +-0.04" in checks.at["efficiency_pct", "note"]
    assert checks["agrees"].all()
    # Design & Analysis, QS1: the Standard Curve Result sheet holds slope -3.3419, R² 0.98802...,
    # efficiency 99.174722240042 (full doubles, Cq too): equal to the digit.
    curve, checks = _curve("allotropy_qsda_QS1_Standard_Curve_example01.xlsx", "RNaseP", tmp_path)
    assert round(curve["slope"], 5) == -3.34186 and round(curve["efficiency_pct"], 4) == 99.1747
    assert checks.at["slope", "file_value"] == -3.3419 and checks.at["efficiency_pct", "file_value"] == pytest.approx(99.174722240042, rel=1e-12)
    assert curve["efficiency_pct"] == pytest.approx(99.174722240042, rel=1e-9)
    assert checks.loc[["slope", "intercept", "r_squared", "efficiency_pct"], "agrees"].all()
    # Bio-Rad CFX Manager RDML, 384 wells: GAPDH amplificationEfficiency 2.025608 (6 decimals)
    curve, checks = _curve("RDMLpkg_BioRad_384.rdml", "GAPDH", tmp_path)
    assert round(curve["amplification"], 6) == 2.025608
    assert checks.at["amplification", "agrees"]


def test_instrument_values_that_differ_are_reported(tmp_path):
    """The 7900HT example's first wells were edited (Ct 1, 2, 10 ...) after SDS averaged them."""
    from fibroskin.miqe import compare_instrument_values

    _, export = _read("ReadqPCR_example.txt", tmp_path)
    checks = compare_instrument_values(export.wells, export.instrument_values)
    means = checks[(checks["item"] == "cq_mean") & np.isfinite(checks["fibroskin_value"])]
    differing = means[~means["agrees"]]
    lines = shared_data(EXPORTS, "ReadqPCR_example.txt").read_text(encoding="utf-8").splitlines()
    # independent: the well tables's rows (one well per sample and detector on each card) whose
    # Ct differs from the Ct Avg the file prints beside it
    rows = [line.split("\t") for line in lines[13:] if line.split("\t")[0].isdigit()]
    edited = {(row[2], row[3]) for row in rows if "" not in (row[5], row[8]) and row[5] != "Undetermined" and abs(float(row[5]) - float(row[8])) > 1e-6}
    assert set(zip(differing["sample"], differing["target"])) == edited and len(edited) == 9
