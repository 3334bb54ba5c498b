"""Write fibroskin's own small exports in each vendor layout the readers support.

Every file is SYNTHETIC: one made-up experiment (skin biopsies ``ctrl1-3`` healthy and
``lesion1-3`` lesional, reference gene GAPDH, marker COL1A1, technical duplicates, one NTC per
target) written in the layout of each instrument family, with that family's quirks. The Cq
values are :data:`CQ`; the end-to-end tests (``tests/test_workflow_vendors.py``) compute the
expected fold change from them by hand.

Text layouts are committed next to this script (run ``python tests/data/formats/make_exports.py``
to rewrite them; the output is deterministic); workbooks and zips are written by the tests
into a temporary folder (:func:`write_binary`), so no binary file is committed.

| file | layout, after | quirks |
| --- | --- | --- |
| ``lightcycler480_abs_quant.txt`` | LightCycler 480 SW 1.5 "Abs Quant/2nd Derivative Max" text export | ``Experiment: ... Selected Filter:`` line; ``Include``/``Color``/``Pos``/``Name``/``Cp``/``Concentration``/``Standard``/``Status``; no target names; one well ``Include = False``; NTC without Cp; CRLF |
| ``lightcycler480_sample_info.txt`` | LightCycler 480 sample information export (``General:Pos`` ...) | serves as the plate map: target and role per position |
| ``sds7900_rq_results.txt`` | ABI 7900HT SDS 2.x "RQ Results" | header block, ``Well``/``PlateID``/``Sample``/``Detector``/``Task``/``Ct``/``Ct Avg``/``Avg Delta Ct``/.../``Filename``, wells numbered on a 384-well plate, ``Endogenous Control`` task, ``Undetermined``, a ``Summary Data`` section after the wells |
| ``cfx_maestro_no_targets.csv`` + ``cfx_maestro_targets.tsv`` | Bio-Rad CFX Maestro Cq results | ``Target`` empty, two dyes per well (FAM = COL1A1, HEX = GAPDH); the plate map names the target of each well and dye |
| ``rdml_lightcycler96.xml`` | RDML 1.1 as the LightCycler 96 writes it | GUID sample ids named in ``description``, targets ``<dye>@<gene>``, an unused ``Cy5@<GUID>`` channel, Cq 100 = no Cq, a Cq extrapolated past the last cycle (45) |
| ``quantstudio_results_only.txt`` | QuantStudio 7 Flex (2024) results-only export | repeated ``Target Name``/``Task`` columns, quantities with thousands separators, slope/efficiency columns |
| Design & Analysis XLSX (:func:`write_design_and_analysis_xlsx`) | QuantStudio Design & Analysis 2.x | header block rows, ``Results`` sheet (``Sample``, ``Target``, ``Cq``, ``UNDETERMINED``), an unused well, standard quantities only in ``Standard Curve Result`` |
| Bio-Rad RDML zip (:func:`write_biorad_rdml`) | RDML 1.1 as CFX Manager writes it | zip starting with ``PK\\x07\\x08``, member ``experiment.xml`` (not ``rdml_data.xml``), reactions numbered row-major |
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEALTHY = ["ctrl1", "ctrl2", "ctrl3"]
LESIONAL = ["lesion1", "lesion2", "lesion3"]

#: (sample, target) -> technical duplicates. COL1A1 sits ~1.6 cycles earlier (relative to
#: GAPDH) in lesional skin: about 3-fold higher.
CQ: dict[tuple[str, str], tuple[float, float]] = {
    ("ctrl1", "GAPDH"): (18.112, 18.204),
    ("ctrl2", "GAPDH"): (18.475, 18.391),
    ("ctrl3", "GAPDH"): (17.958, 18.046),
    ("lesion1", "GAPDH"): (18.302, 18.251),
    ("lesion2", "GAPDH"): (18.077, 18.165),
    ("lesion3", "GAPDH"): (18.519, 18.433),
    ("ctrl1", "COL1A1"): (24.350, 24.412),
    ("ctrl2", "COL1A1"): (24.806, 24.731),
    ("ctrl3", "COL1A1"): (24.105, 24.188),
    ("lesion1", "COL1A1"): (22.904, 22.967),
    ("lesion2", "COL1A1"): (22.512, 22.583),
    ("lesion3", "COL1A1"): (23.131, 23.045),
}
TARGETS = ["GAPDH", "COL1A1"]
SAMPLES = HEALTHY + LESIONAL


def _layout(columns: int = 12) -> list[dict[str, object]]:
    """Wells of the experiment, row-major: per target a row of 12 (6 samples x 2), then NTCs."""
    wells = []
    for row, target in enumerate(TARGETS):
        for index, sample in enumerate(SAMPLES):
            for replicate in range(2):
                column = index * 2 + replicate + 1
                wells.append({"row": row, "column": column, "sample": sample, "target": target, "cq": CQ[(sample, target)][replicate], "task": "unknown"})
    for row, target in enumerate(TARGETS):
        wells.append({"row": 2, "column": row + 1, "sample": "NTC", "target": target, "cq": None, "task": "ntc"})
    for well in wells:
        well["position"] = f"{chr(65 + int(well['row']))}{well['column']}"
        well["number"] = int(well["row"]) * columns + int(well["column"])
    return wells


def lightcycler480() -> tuple[str, str]:
    """Abs Quant export (no targets) and the sample information export naming them."""
    rows = ["Experiment: fibroskin skin biopsies 2024-03-20  Selected Filter: SYBR Green I / HRM Dye (465-510)",
            "Include\tColor\tPos\tName\tCp\tConcentration\tStandard\tStatus"]
    info = ["General:Pos\tGeneral:Sample Name\tGeneral:Repl. Of\tGeneral:Filt. Comb.\tGeneral:Target Name\tRel Quant:Combined Sample/Target type"]
    for well in _layout():
        cp = "" if well["cq"] is None else f"{well['cq']:.2f}"
        rows.append(f"True\t255\t{well['position']}\t{well['sample']}\t{cp}\t\t0\t")
        role = "Target Negative" if well["task"] == "ntc" else ("Ref Unknown" if well["target"] == "GAPDH" else "Target Unknown")
        info.append(f"{well['position']}\t{well['sample']}\t\t465-510\t{well['target']}\t{role}")
    # a well the user excluded in the LightCycler software: Include = False
    rows.append("False\t255\tC12\tlesion1\t31.07\t\t0\t")
    info.append("C12\tlesion1\t\t465-510\tCOL1A1\tTarget Unknown")
    return "\r\n".join(rows) + "\r\n", "\r\n".join(info) + "\r\n"


def sds7900() -> str:
    """7900HT SDS 2.x RQ Results on a 384-well plate (24 columns)."""
    header = ["Well", "PlateID", "Sample", "Detector", "Task", "Ct", "delta Rn", "delta Ct", "Ct Avg", "Ct SD", "Avg Delta Ct", "delta Ct SD",
              "Endo Ct Avg", "Endo Ct SD", "delta delta Ct", "RQ", "RQ Min", "RQ Max", "Baseline Type", "Baseline Start", "Baseline Stop",
              "Threshold Type", "Threshold", "Instrument", "Outlier", "Filename"]
    lines = ["SDS 2.1\tRQ Results\t1", "Filename\tfibroskin plate 1", "Assay Type\tRQ Study", "Run DateTime\tWed Mar 20 10:00:00 GMT 2024",
             "Operator\t", "ThermalCycleParams\t", "", "\t".join(header)]
    means = {key: sum(values) / 2 for key, values in CQ.items()}
    for well in _layout(columns=24):
        number = int(well["row"]) * 24 + int(well["column"]) + 100  # wells 101-... : a 384-well plate
        if well["task"] == "ntc":
            lines.append("\t".join([str(number), "", "NTC", str(well["target"]), "NTC", "Undetermined", "0.02"] + [""] * 11
                                   + ["Automatic", "3", "15", "Automatic", "0.2", "7900HT", "", "fibroskin plate 1"]))
            continue
        sample, target = str(well["sample"]), str(well["target"])
        task = "Endogenous Control" if target == "GAPDH" else "Target"
        delta = "" if target == "GAPDH" else f"{means[(sample, target)] - means[(sample, 'GAPDH')]:.6f}"
        cells = [str(number), "", sample, target, task, f"{well['cq']:.6f}", "1.2", "", f"{means[(sample, target)]:.6f}", "", delta, "",
                 f"{means[(sample, 'GAPDH')]:.6f}", "", "", "", "", "", "Automatic", "3", "15", "Automatic", "0.2", "7900HT", "", "fibroskin plate 1"]
        lines.append("\t".join(cells))
    lines.append("\t".join(["300", "", "lesion2", "COL1A1", "Target", "Undetermined", "0.01", "", "40", "", "", "", "", "", "", "", "", "",
                            "Automatic", "3", "15", "Automatic", "0.2", "7900HT", "", "fibroskin plate 1"]))
    lines += ["", "Summary Data for Study fibroskin", "Endogenous Control\tGAPDH", "Calibrator\tctrl1",
              "PlateID\tSample\tDetector\tAvg delta Ct\tdelta Ct SD\tdelta delta Ct\tRQ\tRQ Min\tRQ Max\tThreshold",
              "\tctrl1\tCOL1A1\t6.223\t\t0\t1\t\t\t0.2"]
    return "\n".join(lines) + "\n"


def cfx_maestro() -> tuple[str, str]:
    """CFX Maestro Cq results without targets (FAM and HEX in every well) and the plate map."""
    rows = [",Well,Fluor,Target,Content,Sample,Biological Set Name,Cq,Cq Mean,Cq Std. Dev,Starting Quantity (SQ),Log Starting Quantity,SQ Mean,SQ Std. Dev,Set Point,Well Note"]
    plate_map = ["well\tfluor\ttarget"]
    dyes = {"COL1A1": "FAM", "GAPDH": "HEX"}
    # multiplex: both targets of a sample's replicate in the same well (the COL1A1 row's wells)
    by_well = {}
    for well in _layout():
        if well["task"] == "ntc":
            position = f"C{int(well['column']):02d}"
            by_well.setdefault(position, []).append(well)
        else:
            position = f"A{int(well['column']):02d}"
            by_well.setdefault(position, []).append(well)
    for position in sorted(by_well, key=lambda text: (text[0], int(text[1:]))):
        for well in sorted(by_well[position], key=lambda item: dyes[str(item["target"])]):
            dye = dyes[str(well["target"])]
            content = "NTC" if well["task"] == "ntc" else "Unkn"
            sample = "" if well["task"] == "ntc" else well["sample"]
            cq = "NaN" if well["cq"] is None else f"{well['cq']:.13f}"
            rows.append(f",{position},{dye},,{content},{sample},,{cq},{cq},0,NaN,NaN,NaN,0,60,")
            plate_map.append(f"{position}\t{dye}\t{well['target']}")
    return "\n".join(rows) + "\n", "\n".join(plate_map) + "\n"


def lightcycler96_rdml() -> str:
    """RDML 1.1 as the LightCycler 96 writes it (see the module docstring)."""
    guids = {sample: f"{index:08x}-0000-4000-8000-{index:012x}" for index, sample in enumerate(SAMPLES + ["NTC"], start=1)}
    unused = "c16f36ee-8636-40d2-ae72-b00d3b2eb89d"
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<rdml xmlns="http://www.rdml.org" version="1.1">',
             "  <id>", "    <publisher>Roche Diagnostics</publisher>", "    <serialNumber>000000000011301</serialNumber>", "  </id>"]
    for sample, guid in guids.items():
        kind = "ntp" if sample == "NTC" else "unkn"
        lines += [f'  <sample id="{guid}">', f"    <description>{sample}</description>", f"    <type>{kind}</type>", "  </sample>"]
    for target_id, dye in (("FAM@GAPDH", "FAM"), ("Hex@COL1A1", "Hex"), (f"Cy5@{unused}", "Cy5")):
        lines += [f'  <target id="{target_id}">', "    <type>ref</type>", f'    <dyeId id="{dye}" />', "  </target>"]
    lines += ['  <experiment id="exp1">', '    <run id="run1">', "      <pcrFormat>", "        <rows>8</rows>", "        <columns>12</columns>",
              "        <rowLabel>ABC</rowLabel>", "        <columnLabel>123</columnLabel>", "      </pcrFormat>"]
    for index, sample in enumerate(SAMPLES + ["NTC"]):
        for replicate in range(2 if sample != "NTC" else 1):
            react = index * 2 + replicate + 1
            lines += [f'      <react id="{react}">', f'        <sample id="{guids[sample]}" />']
            for target_id, target in (("FAM@GAPDH", "GAPDH"), ("Hex@COL1A1", "COL1A1"), (f"Cy5@{unused}", None)):
                if sample == "NTC":
                    cq = "100" if target == "GAPDH" else "55.31"  # no Cq / extrapolated past cycle 45
                elif target is None:
                    cq = "47.12"
                else:
                    cq = f"{CQ[(sample, target)][replicate]:.2f}"
                lines += ["        <data>", f'          <tar id="{target_id}" />', f"          <cq>{cq}</cq>"]
                lines += [f"          <adp><cyc>{cycle}</cyc><fluor>0.1</fluor></adp>" for cycle in (1, 45)]
                lines += ["        </data>"]
            lines += ["      </react>"]
    lines += ["    </run>", "  </experiment>", "</rdml>"]
    return "\n".join(lines) + "\n"


def quantstudio_results_only() -> str:
    """QuantStudio 7 Flex results-only export: repeated columns and thousands separators."""
    header = ["Well", "Well Position", "Omit", "Sample Name", "Target Name", "Task", "Reporter", "Quencher", "CT", "Ct Mean", "Ct SD", "Quantity",
              "Y-Intercept", "R(superscript 2)", "Slope", "Efficiency", "Target Name", "Task"]
    lines = ["* Experiment Name = fibroskin standards", "* Experiment Type = Standard Curve", "* Instrument Type = QuantStudio(TM) 7 Flex System", "",
             "[Results]", "\t".join(header)]
    # GAPDH standards 1,000 / 10,000 / 100,000 copies; Cq = 36.0 - 3.3 * log10(quantity) (+- 0.05)
    standards = [(1000, 26.05), (1000, 25.95), (10000, 22.75), (10000, 22.65), (100000, 19.45), (100000, 19.35)]
    for number, (quantity, cq) in enumerate(standards, start=1):
        position = f"A{number}"
        lines.append("\t".join([str(number), position, "false", f"std {quantity:,}", "GAPDH", "STANDARD", "SYBR", "None", f"{cq:.3f}", "", "",
                                f"{quantity:,.3f}", "36.000", "0.998", "-3.300", "100.923", "GAPDH", "STANDARD"]))
    lines.append("\t".join(["7", "A7", "false", "ctrl1", "GAPDH", "UNKNOWN", "SYBR", "None", "24.400", "", "", "2,477.076", "36.000", "0.998",
                            "-3.300", "100.923", "GAPDH", "UNKNOWN"]))
    return "\n".join(lines) + "\n"


def write_text(folder: Path = HERE) -> list[Path]:
    """Write the committed text layouts into ``folder``."""
    abs_quant, sample_info = lightcycler480()
    cfx_csv, cfx_map = cfx_maestro()
    files = {
        "lightcycler480_abs_quant.txt": abs_quant,
        "lightcycler480_sample_info.txt": sample_info,
        "sds7900_rq_results.txt": sds7900(),
        "cfx_maestro_no_targets.csv": cfx_csv,
        "cfx_maestro_targets.tsv": cfx_map,
        "rdml_lightcycler96.xml": lightcycler96_rdml(),
        "quantstudio_results_only.txt": quantstudio_results_only(),
    }
    written = []
    for name, text in files.items():
        path = folder / name
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def _header_row(sheet, names: list[str], row: int = 25) -> None:
    for column, name in enumerate(names, start=1):
        sheet.cell(row=row, column=column, value=name)


def write_design_and_analysis_xlsx(target: str | Path) -> Path:
    """A QuantStudio Design & Analysis 2.x workbook (needs openpyxl)."""
    import openpyxl

    block = [("File Name", "fibroskin.eds"), ("Instrument Type", "QuantStudio™ 5 System"), ("Block Type", "96-Well 0.2-mL Block"),
             ("Software Name and Version", "Design & Analysis Software v2.7.0"), ("Plugin Name and Version", "Primary Analysis v1.8.0, Relative Quantification v1.6.0")]
    workbook = openpyxl.Workbook()
    results = workbook.active
    results.title = "Results"
    # the header block on rows 1-23, the table's header on row 25, as Design & Analysis writes it
    for row in block:
        results.append(list(row))
    _header_row(results, ["Well", "Well Position", "Omit", "Sample", "Target", "Task", "Reporter", "Quencher", "Amp Status", "Cq", "Cq Mean"])
    curve = workbook.create_sheet("Standard Curve Result")
    for row in block:
        curve.append(list(row))
    _header_row(curve, ["Well", "Well Position", "Sample", "Quantity", "Target", "Task", "Cq", "Slope", "Efficiency", "Omit"])
    for well in _layout():
        cq = "UNDETERMINED" if well["cq"] is None else float(well["cq"])
        task = "NTC" if well["task"] == "ntc" else "UNKNOWN"
        sample = None if well["task"] == "ntc" else well["sample"]
        results.append([float(well["number"]), well["position"], "FALSE", sample, well["target"], task, "SYBR", "None", "AMP", cq, ""])
    # an unused well of the layout: a target, no sample, no Cq
    results.append([36.0, "C12", "FALSE", None, "COL1A1", "UNKNOWN", "SYBR", "None", "NO_AMP", "UNDETERMINED", ""])
    # two GAPDH standards whose amount is only in the Standard Curve Result sheet
    for number, (position, amount, cq) in enumerate((("D1", 1000.0, 26.1), ("D2", 100000.0, 19.5)), start=37):
        results.append([float(number), position, "FALSE", f"Std_{int(amount)}", "GAPDH", "STANDARD", "SYBR", "None", "AMP", cq, ""])
        curve.append([float(number), position, f"Std_{int(amount)}", amount, "GAPDH", "STANDARD", cq, -3.3, 100.923, "FALSE"])
    workbook.create_sheet("Amplification Data").append(["Well", "Well Position", "Cycle Number", "Target", "Rn", "dRn"])
    target = Path(target)
    target.write_bytes(deterministic_xlsx(workbook))
    return target


def workbook_without_results(target: str | Path) -> Path:
    """A 7500-style workbook holding only Sample Setup and Multicomponent Data (no Ct)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    setup = workbook.active
    setup.title = "Sample Setup"
    setup.append(["Block Type", "96fast"])
    setup.append(["Instrument Type", "sds7500fast"])
    setup.append([])
    setup.append(["Well", "Sample Name", "Target Name", "Task", "Reporter", "Quencher", "Quantity"])
    for well in _layout():
        setup.append([well["position"], well["sample"], well["target"], str(well["task"]).upper(), "SYBR", "None", None])
    raw = workbook.create_sheet("Multicomponent Data")
    raw.append(["Well", "Cycle", "SYBR", "ROX"])
    for cycle in range(1, 4):
        raw.append(["A1", float(cycle), 842270.0 + cycle, 363171.0])
    target = Path(target)
    target.write_bytes(deterministic_xlsx(workbook))
    return target


def deterministic_xlsx(workbook) -> bytes:
    """The workbook's bytes without the save time (document properties, zip entry dates)."""
    import datetime

    fixed = datetime.datetime(2024, 3, 20, 10, 0, 0)
    workbook.properties.created = workbook.properties.modified = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                data = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", data)
            archive.writestr(zipfile.ZipInfo(info.filename, date_time=(2024, 3, 20, 10, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def write_biorad_rdml(target: str | Path) -> Path:
    """RDML 1.1 zip as Bio-Rad CFX Manager writes it: ``PK\\x07\\x08`` first, member ``experiment.xml``."""
    samples = "".join(f'<sample id="{sample}"><type>unkn</type></sample>' for sample in SAMPLES) + '<sample id="H2O"><type>ntc</type></sample>'
    targets = "".join(f'<target id="{target}"><type>toi</type><dyeId id="SYBR" /></target>' for target in TARGETS)
    reacts = []
    for well in _layout():
        sample = "H2O" if well["task"] == "ntc" else well["sample"]
        cq = "" if well["cq"] is None else f"<cq>{well['cq']:.13f}</cq>"
        reacts.append(f'<react id="{well["number"]}"><sample id="{sample}" /><data><tar id="{well["target"]}" />{cq}'
                      "<adp><cyc>1</cyc><fluor>10.5</fluor></adp><adp><cyc>40</cyc><fluor>812.0</fluor></adp></data></react>")
    xml = (
        '<rdml version="1.1" xmlns:rdml="http://www.rdml.org" xmlns="http://www.rdml.org"><id><publisher>Bio-Rad Laboratories, Inc.</publisher>'
        f"<serialNumber>3.0</serialNumber></id><dye id=\"SYBR\" />{samples}{targets}<experiment id=\"All Wells\"><run id=\"Amp Step 3_SYBR\">"
        "<pcrFormat><rows>8</rows><columns>12</columns><rowLabel>ABC</rowLabel><columnLabel>123</columnLabel></pcrFormat>"
        + "".join(reacts)
        + "</run></experiment></rdml>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("experiment.xml", date_time=(2024, 3, 20, 10, 0, 0))
        archive.writestr(info, xml)
    target = Path(target)
    target.write_bytes(b"PK\x07\x08" + buffer.getvalue())
    return target


def write_binary(folder: str | Path) -> dict[str, Path]:
    """Write the workbook and zip layouts into ``folder`` (for the tests)."""
    folder = Path(folder)
    return {
        "design_and_analysis": write_design_and_analysis_xlsx(folder / "design_and_analysis.xlsx"),
        "biorad_rdml": write_biorad_rdml(folder / "biorad_cfx.rdml"),
    }


if __name__ == "__main__":
    for path in write_text():
        print(path)
