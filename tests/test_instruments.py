"""Tests of fibroskin.io.instruments on the synthetic exports in tests/data/formats."""

from __future__ import annotations

import importlib.util
import math
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fibroskin.errors import InputErrors
from fibroskin.io.cq import WELL_COLUMNS
from fibroskin.io.instruments import (
    detect_format,
    normalise_well,
    read_plate_map,
    read_qpcr_file,
    read_qpcr_files,
    well_number_to_position,
)

FORMATS = Path(__file__).parent / "data" / "formats"


def _load_make_xlsx():
    spec = importlib.util.spec_from_file_location("make_xlsx", FORMATS / "make_xlsx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quantstudio_xlsx(tmp_path_factory) -> Path:
    return _load_make_xlsx().write_quantstudio_xlsx(tmp_path_factory.mktemp("xlsx") / "quantstudio_results.xlsx")


def _well(wells: pd.DataFrame, well: str, target: str | None = None, plate: str | None = None) -> pd.Series:
    selected = wells[wells["well"] == well]
    if target is not None:
        selected = selected[selected["target"] == target]
    if plate is not None:
        selected = selected[selected["plate"] == plate]
    assert len(selected) == 1, selected
    return selected.iloc[0]


# --------------------------------------------------------------------------- wells


def test_well_names_are_normalised():
    assert normalise_well("A01") == normalise_well("a1") == normalise_well(" A1 ") == "A1"
    assert normalise_well("P24") == "P24"
    assert normalise_well("1") is None and normalise_well("A") is None
    assert well_number_to_position(1) == "A1"
    assert well_number_to_position(13) == "B1"
    assert well_number_to_position(96) == "H12"
    assert well_number_to_position(384, columns=24) == "P24"


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("quantstudio_results.csv", "quantstudio"),
        ("quantstudio_results.txt", "quantstudio"),
        ("abi7500_results.txt", "quantstudio"),
        ("quantstudio_utf16.txt", "quantstudio"),
        ("cfx_cq_results.csv", "cfx"),
        ("cfx_cq_results_decimal_comma.csv", "cfx"),
        ("rdml_two_runs.xml", "rdml"),
    ],
)
def test_detect_format(name, expected):
    assert detect_format(FORMATS / name) == expected


def test_detect_format_of_xlsx_zipped_rdml_and_long_table(tmp_path, quantstudio_xlsx):
    assert detect_format(quantstudio_xlsx) == "quantstudio"
    rdml = tmp_path / "run.rdml"
    with zipfile.ZipFile(rdml, "w") as archive:
        archive.write(FORMATS / "rdml_two_runs.xml", "rdml_data.xml")
    assert detect_format(rdml) == "rdml"
    long = tmp_path / "long.tsv"
    long.write_text("sample\ttarget\tcq\nS1\tGAPDH\t18.2\n")
    assert detect_format(long) == "long"
    unknown = tmp_path / "notes.txt"
    unknown.write_text("just some notes\nnothing tabular\n")
    with pytest.raises(InputErrors, match="file format not recognised"):
        detect_format(unknown)


# --------------------------------------------------------------------------- QuantStudio


def test_quantstudio_csv():
    wells, notes = read_qpcr_file(FORMATS / "quantstudio_results.csv")
    assert list(wells.columns) == WELL_COLUMNS
    # 58 result rows, one marked Omit = true (D9, line 65).
    assert len(wells) == 57
    assert "D9" not in set(wells["well"])
    assert any("Omit" in note and "lines 65" in note for note in notes)
    assert wells["task"].value_counts().to_dict() == {"unknown": 35, "standard": 16, "ntc": 6}
    first = _well(wells, "A1")
    assert (first["line"], first["sample"], first["target"], first["cq"], first["task"], first["quantity"]) == (
        21, "std_10ng", "GAPDH", 16.652, "standard", 10.0
    )
    assert first["plate"] == "quantstudio_results.csv"
    undetermined = _well(wells, "C10")
    assert undetermined["line"] == 54 and undetermined["sample"] == "ctrl2" and undetermined["target"] == "TGFB1"
    assert math.isnan(undetermined["cq"]) and undetermined["cq_raw"] == "Undetermined"
    assert _well(wells, "E9")["cq"] == 31.204 and _well(wells, "E9")["task"] == "ntc"
    standards = wells[wells["task"] == "standard"]
    assert standards.groupby("target")["quantity"].apply(sorted).to_dict() == {
        "COL1A1": [0.01, 0.01, 0.1, 0.1, 1.0, 1.0, 10.0, 10.0],
        "GAPDH": [0.01, 0.01, 0.1, 0.1, 1.0, 1.0, 10.0, 10.0],
    }
    assert wells.loc[wells["task"] != "standard", "quantity"].isna().all()
    assert int(wells["cq"].isna().sum()) == 5


def test_quantstudio_txt_with_sample_setup_section_before_results():
    wells, _ = read_qpcr_file(FORMATS / "quantstudio_results.txt")
    assert len(wells) == 50
    # The [Sample Setup] table (lines 20-69) must not be read as results.
    assert wells["line"].min() == 74
    first = _well(wells, "A1")
    assert (first["sample"], first["target"], first["cq"], first["quantity"]) == ("std_10ng", "TGFB1", 24.263, 10.0)
    assert wells["task"].value_counts().to_dict() == {"unknown": 36, "standard": 8, "ntc": 6}


def test_quantstudio_xlsx_matches_the_csv(quantstudio_xlsx):
    from_xlsx, notes = read_qpcr_file(quantstudio_xlsx)
    from_csv, _ = read_qpcr_file(FORMATS / "quantstudio_results.csv")
    assert any("sheet 'Results'" in note for note in notes)
    for column in ("well", "sample", "target", "task"):
        assert from_xlsx[column].tolist() == from_csv[column].tolist()
    # Excel keeps numbers, not their text: "23.470" comes back as 23.47.
    assert from_xlsx["cq_raw"].iloc[5] == "23.47" and from_csv["cq_raw"].iloc[5] == "23.470"
    np.testing.assert_array_equal(from_xlsx["cq"].to_numpy(), from_csv["cq"].to_numpy())
    np.testing.assert_array_equal(from_xlsx["quantity"].to_numpy(), from_csv["quantity"].to_numpy())
    # The workbook has no "[Results]" row: every spreadsheet row is one above the CSV line.
    assert (from_xlsx["line"] == from_csv["line"] - 1).all()


def test_abi_7500_export_with_detector_and_numbered_wells():
    wells, notes = read_qpcr_file(FORMATS / "abi7500_results.txt")
    assert len(wells) == 14
    first = wells.iloc[0]
    # Well number 13 is B1 on a 96-well block.
    assert (first["line"], first["well"], first["sample"], first["target"], first["cq"]) == (9, "B1", "ctrl1", "GAPDH", 18.304)
    assert set(wells["target"]) == {"GAPDH", "COL1A1"}
    assert wells.loc[wells["task"] == "ntc", "cq"].isna().all()
    assert any("sds7500" in note for note in notes)


def test_utf16_export():
    wells, notes = read_qpcr_file(FORMATS / "quantstudio_utf16.txt")
    assert any("UTF-16" in note for note in notes)
    assert len(wells) == 14
    first = _well(wells, "A1")
    assert (first["line"], first["sample"], first["target"], first["cq"]) == (21, "ctrl2", "GAPDH", 18.999)


def test_quantstudio_errors_name_the_original_line(tmp_path):
    lines = (FORMATS / "quantstudio_results.csv").read_text(encoding="utf-8").splitlines()
    assert lines[29].startswith("10,A10,")  # line 30 of the file
    lines[29] = lines[29].replace(",19.966,", ",1x.966,", 1)
    assert lines[40].startswith("21,B9,")  # line 41
    lines[40] = lines[40].replace(",UNKNOWN,", ",CALIBRATOR,")
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        read_qpcr_file(broken)
    problems = {(error.row, error.column) for error in caught.value.errors}
    assert problems == {(30, "cq"), (41, "task")}
    text = str(caught.value)
    assert f"{broken}, line 30, column 'cq': Cq is not a number (found: '1x.966')" in text
    assert "line 41, column 'task': unknown well task (found: 'CALIBRATOR')" in text


def test_quantstudio_without_results_section(tmp_path):
    broken = tmp_path / "setup_only.txt"
    broken.write_text("* Experiment Name = x\n\n[Sample Setup]\nWell\tSample Name\n1\tS1\n", encoding="utf-8")
    with pytest.raises(InputErrors, match=r"no \[Results\] section"):
        read_qpcr_file(broken, format="quantstudio")


# --------------------------------------------------------------------------- CFX


def test_cfx_csv():
    wells, notes = read_qpcr_file(FORMATS / "cfx_cq_results.csv")
    # 49 wells, the positive control skipped.
    assert len(wells) == 48
    assert any("positive-control" in note for note in notes)
    first = _well(wells, "A1")
    assert (first["line"], first["sample"], first["target"], first["cq"], first["task"], first["quantity"]) == (
        2, "std1", "GAPDH", 16.53, "standard", 100.0
    )
    assert sorted(wells.loc[wells["task"] == "standard", "quantity"].unique()) == [0.01, 0.1, 1.0, 10.0, 100.0]
    assert wells["task"].value_counts().to_dict() == {"unknown": 24, "standard": 20, "ntc": 4}
    nrt = _well(wells, "D12")  # no-RT control checked like an NTC
    assert (nrt["line"], nrt["task"], nrt["cq"]) == (49, "ntc", 35.61)
    ntc = _well(wells, "D9")
    assert ntc["cq_raw"] == "NaN" and math.isnan(ntc["cq"])
    assert _well(wells, "D3")["sample"] == "lesion2" and _well(wells, "D3")["cq"] == 18.27
    assert "column_1" not in wells.columns


def test_cfx_decimal_comma_export_with_plate_map():
    wells, notes = read_qpcr_file(FORMATS / "cfx_cq_results_decimal_comma.csv", plate_map=FORMATS / "plate_map.tsv")
    assert any("decimal commas" in note for note in notes)
    assert any("byte-order mark" in note for note in notes)
    assert len(wells) == 48
    assert (wells["sample"] != "").all()
    first = _well(wells, "A1")
    assert (first["sample"], first["cq"], first["cq_raw"], first["quantity"]) == ("std1", 16.47, "16,47", 100.0)
    calibrator = _well(wells, "B9")  # plate map writes B9 (no zero), the export B09
    assert (calibrator["sample"], calibrator["cq"]) == ("ctrl1", 18.39)
    assert _well(wells, "D12")["sample"] == "NRT" and _well(wells, "D12")["cq"] == 35.61


def test_export_without_samples_and_no_plate_map_is_an_error():
    with pytest.raises(InputErrors) as caught:
        read_qpcr_file(FORMATS / "cfx_cq_results_decimal_comma.csv")
    assert all(error.column == "sample" for error in caught.value.errors)
    assert len(caught.value.errors) == 24  # the 24 sample wells; standards and NTCs may be unnamed


def test_sample_well_missing_from_the_plate_map_is_named_once(tmp_path):
    rows = (FORMATS / "plate_map.tsv").read_text(encoding="utf-8").splitlines()
    plate_map = tmp_path / "map.tsv"
    plate_map.write_text("\n".join(row for row in rows if "\tC3\t" not in row) + "\n", encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        read_qpcr_file(FORMATS / "cfx_cq_results_decimal_comma.csv", plate_map=plate_map)
    (error,) = caught.value.errors  # not repeated as "sample is empty"
    assert (Path(error.file).name, error.row, error.column) == ("cfx_cq_results_decimal_comma.csv", 28, "sample")
    assert error.message.startswith("well C3 has no sample")
    assert str(plate_map) in error.expected


def test_plate_map_conflict_points_at_the_plate_map_line(tmp_path):
    plate_map = tmp_path / "map.csv"
    plate_map.write_text("well,sample\nA01,std1\nD03,lesion9\n", encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        read_qpcr_file(FORMATS / "cfx_cq_results.csv", plate_map=plate_map)
    (error,) = caught.value.errors
    assert (Path(error.file), error.row, error.column, error.value) == (plate_map, 3, "sample", "lesion9")
    assert "'lesion2' of cfx_cq_results.csv line 40" in error.message


def test_plate_map_errors_are_collected(tmp_path):
    plate_map = tmp_path / "map.tsv"
    plate_map.write_text("plate\twell\tsample\nP1\tA1\ts1\nP1\tA01\ts2\nP1\tZ\ts3\n", encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        read_plate_map(plate_map)
    assert [(error.row, error.message) for error in caught.value.errors] == [
        (4, "not a well position"),
        (3, "well listed twice in the plate map"),
    ]


# --------------------------------------------------------------------------- RDML


def _check_rdml(wells: pd.DataFrame) -> None:
    assert len(wells) == 27  # 28 reactions, one <excl>uded
    assert set(wells["plate"]) == {"run1", "run2"}
    first = _well(wells, "A1", plate="run1")
    assert (first["sample"], first["target"], first["cq"], first["task"], first["quantity"]) == ("std_1000", "GAPDH", 22.95, "standard", 1000.0)
    # React 13 of a 12-column plate is B1.
    b1 = _well(wells, "B1", plate="run1")
    assert (b1["sample"], b1["target"], b1["cq"]) == ("lesion1", "COL1A1", 21.406)
    assert "A3" not in set(wells.loc[wells["plate"] == "run2", "well"])
    minus_one = _well(wells, "B3", plate="run1")
    assert math.isnan(minus_one["cq"]) and minus_one["cq_raw"] == "-1" and minus_one["task"] == "ntc"
    no_cq = _well(wells, "B4", plate="run1")
    assert math.isnan(no_cq["cq"]) and no_cq["cq_raw"] == ""
    assert _well(wells, "B5", plate="run1")["task"] == "ntc"  # nac: no-amplification control
    assert wells.loc[wells["task"] == "standard", "quantity"].tolist() == [1000.0] * 2 + [100.0] * 2 + [10.0] * 2


def test_rdml_bare_xml_and_line_numbers():
    path = FORMATS / "rdml_two_runs.xml"
    wells, notes = read_qpcr_file(path)
    _check_rdml(wells)
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in wells["line"]:
        assert lines[line - 1].strip() == "<data>"
    assert any("excluded in the file (bubble in well)" in note for note in notes)
    assert any("-1" in note for note in notes)


def test_rdml_zip(tmp_path):
    rdml = tmp_path / "experiment.rdml"
    with zipfile.ZipFile(rdml, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(FORMATS / "rdml_two_runs.xml", "rdml_data.xml")
    wells, _ = read_qpcr_file(rdml)
    _check_rdml(wells)


def test_rdml_errors(tmp_path):
    text = (FORMATS / "rdml_two_runs.xml").read_text(encoding="utf-8")
    bad_type = tmp_path / "bad_type.xml"
    bad_type.write_text(text.replace("<type>nac</type>", "<type>blank</type>"), encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        read_qpcr_file(bad_type)
    # each reaction once, in RDML's own words (not again as an unknown well task)
    assert [(error.row, error.column) for error in caught.value.errors] == [(173, "type"), (263, "type")]
    assert all(error.value == "blank" for error in caught.value.errors)
    truncated = tmp_path / "truncated.xml"
    truncated.write_text("\n".join(text.splitlines()[:100]), encoding="utf-8")
    with pytest.raises(InputErrors, match="not well-formed XML: the file ends before its elements are closed") as caught:
        read_qpcr_file(truncated, format="rdml")
    assert caught.value.errors[0].row == 100
    # with a final newline expat points at line 101, which the file does not have
    truncated.write_text("\n".join(text.splitlines()[:100]) + "\n", encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        read_qpcr_file(truncated, format="rdml")
    assert caught.value.errors[0].row == 100
    mismatched = tmp_path / "mismatched.xml"
    mismatched.write_text(text.replace("</run>", "</rnu>", 1), encoding="utf-8")
    with pytest.raises(InputErrors, match="not well-formed XML: mismatched tag") as caught:
        read_qpcr_file(mismatched, format="rdml")
    assert caught.value.errors[0].row == 178
    empty = tmp_path / "empty.xml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputErrors, match="file is empty"):
        read_qpcr_file(empty, format="rdml")


# --------------------------------------------------------------------------- several files


def test_read_several_plates_from_several_instruments(tmp_path):
    paths = [FORMATS / name for name in ("quantstudio_results.csv", "quantstudio_results.txt", "abi7500_results.txt", "cfx_cq_results.csv", "rdml_two_runs.xml")]
    wells, notes = read_qpcr_files(paths)
    assert len(wells) == 57 + 50 + 14 + 48 + 27
    assert set(wells["plate"]) == {"quantstudio_results.csv", "quantstudio_results.txt", "abi7500_results.txt", "cfx_cq_results.csv", "run1", "run2"}
    assert any("detected format 'cfx'" in note for note in notes)


def test_errors_of_all_files_are_raised_together(tmp_path):
    first = tmp_path / "a.csv"
    first.write_text((FORMATS / "quantstudio_results.csv").read_text(encoding="utf-8").replace("16.652", "abc"), encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text((FORMATS / "cfx_cq_results.csv").read_text(encoding="utf-8").replace(",16.53,", ",99,"), encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        read_qpcr_files([first, second])
    assert [(Path(error.file).name, error.row) for error in caught.value.errors] == [("a.csv", 21), ("b.csv", 2)]


def test_same_plate_twice_is_an_error(tmp_path):
    copy = tmp_path / "quantstudio_results.csv"
    shutil.copy(FORMATS / "quantstudio_results.csv", copy)
    with pytest.raises(InputErrors, match="appears twice"):
        read_qpcr_files([FORMATS / "quantstudio_results.csv", copy])


# --------------------------------------------------------------------------- our own files in every other vendor layout


def _load_make_exports():
    spec = importlib.util.spec_from_file_location("make_exports", FORMATS / "make_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def vendor_binaries(tmp_path_factory) -> dict[str, Path]:
    return _load_make_exports().write_binary(tmp_path_factory.mktemp("vendors"))


def test_committed_vendor_files_are_what_the_script_writes(tmp_path):
    for path in _load_make_exports().write_text(tmp_path):
        assert path.read_bytes() == (FORMATS / path.name).read_bytes(), path.name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lightcycler480_abs_quant.txt", "lightcycler"),
        ("sds7900_rq_results.txt", "sds7900"),
        ("cfx_maestro_no_targets.csv", "cfx"),
        ("rdml_lightcycler96.xml", "rdml"),
        ("quantstudio_results_only.txt", "quantstudio"),
    ],
)
def test_detect_vendor_formats(name, expected):
    assert detect_format(FORMATS / name) == expected


def test_lightcycler480_abs_quant_with_sample_information_as_plate_map():
    wells, notes = read_qpcr_file(FORMATS / "lightcycler480_abs_quant.txt", plate_map=FORMATS / "lightcycler480_sample_info.txt")
    assert len(wells) == 26  # 24 sample wells, 2 NTCs; C12 (Include = False) dropped
    assert "C12" not in set(wells["well"]) and any("Include = False" in note and "lines 29" in note for note in notes)
    first = _well(wells, "A1")
    assert (first["line"], first["sample"], first["target"], first["cq"], first["task"]) == (3, "ctrl1", "GAPDH", 18.11, "unknown")
    assert (_well(wells, "B3")["target"], _well(wells, "B3")["cq"]) == ("COL1A1", 24.81)
    ntc = _well(wells, "C1")  # "Target Negative" in the sample information: an NTC without Cp
    assert (ntc["task"], ntc["cq_raw"]) == ("ntc", "") and math.isnan(ntc["cq"])
    with pytest.raises(InputErrors, match="names no target for any of its 26 wells") as caught:
        read_qpcr_file(FORMATS / "lightcycler480_abs_quant.txt")
    assert "plate map with columns well and target" in str(caught.value)


def test_sds7900_rq_results_on_a_384_well_plate():
    wells, notes = read_qpcr_file(FORMATS / "sds7900_rq_results.txt")
    assert len(wells) == 27 and set(wells["plate"]) == {"fibroskin plate 1"}
    assert wells["task"].value_counts().to_dict() == {"unknown": 25, "ntc": 2}
    first = wells.iloc[0]
    # well 101 of a 384-well plate (24 columns): row E, column 5
    assert (first["line"], first["well"], first["sample"], first["target"], first["cq"], first["task"]) == (9, "E5", "ctrl1", "GAPDH", 18.112, "unknown")
    undetermined = _well(wells, "M12")  # well 300
    assert (undetermined["sample"], undetermined["target"], undetermined["cq_raw"]) == ("lesion2", "COL1A1", "Undetermined")
    assert any("Summary Data" in note for note in notes) and any("384-well" in note for note in notes)


def test_cfx_maestro_targets_from_the_plate_map_by_dye():
    wells, notes = read_qpcr_file(FORMATS / "cfx_maestro_no_targets.csv", plate_map=FORMATS / "cfx_maestro_targets.tsv")
    assert len(wells) == 26
    a3 = wells[wells["well"] == "A3"].set_index("target")
    assert a3.loc["COL1A1", "cq"] == 24.806 and a3.loc["GAPDH", "cq"] == 18.475 and set(a3["sample"]) == {"ctrl2"}
    assert any("took their target from the plate map" in note for note in notes)


def test_lightcycler96_rdml_conventions():
    wells, notes = read_qpcr_file(FORMATS / "rdml_lightcycler96.xml")
    assert len(wells) == 26 and set(wells["target"]) == {"GAPDH", "COL1A1"}  # the Cy5 channel has no target
    assert set(wells["sample"]) == {*_load_make_exports().SAMPLES, "NTC"}
    ntc = wells[wells["task"] == "ntc"].set_index("target")
    assert ntc.loc["GAPDH", "cq_raw"] == "100" and math.isnan(ntc.loc["GAPDH", "cq"])
    assert ntc.loc["COL1A1", "cq_raw"] == "55.31" and math.isnan(ntc.loc["COL1A1", "cq"])
    assert any("Cq value(s) of 100 (LightCycler 96" in note for note in notes)
    assert any("beyond the run's last cycle (45)" in note for note in notes)
    assert _well(wells, "A1", target="GAPDH")["cq"] == 18.11


def test_quantstudio_results_only_export():
    wells, notes = read_qpcr_file(FORMATS / "quantstudio_results_only.txt")
    assert wells.loc[wells["task"] == "standard", "quantity"].tolist() == [1000.0, 1000.0, 10000.0, 10000.0, 100000.0, 100000.0]
    assert math.isnan(_well(wells, "A7")["quantity"])  # the interpolated quantity of an unknown is not kept
    assert any("repeats column(s) Target Name, Task" in note for note in notes)


def test_design_and_analysis_workbook(vendor_binaries):
    wells, notes = read_qpcr_file(vendor_binaries["design_and_analysis"])
    assert len(wells) == 28  # 24 sample wells, 2 NTCs, 2 standards; the unused well C12 skipped
    first = _well(wells, "A1")
    assert (first["line"], first["sample"], first["target"], first["cq"]) == (26, "ctrl1", "GAPDH", 18.112)
    assert wells.loc[wells["task"] == "standard"].set_index("well")["quantity"].to_dict() == {"D1": 1000.0, "D2": 100000.0}
    assert any("unused well(s)" in note and "lines 52" in note for note in notes)


def test_biorad_rdml_zip(vendor_binaries):
    path = vendor_binaries["biorad_rdml"]
    assert path.read_bytes()[:4] == b"PK\x07\x08"
    assert detect_format(path) == "rdml"
    wells, notes = read_qpcr_file(path)
    assert len(wells) == 26 and set(wells["plate"]) == {"Amp Step 3_SYBR"}
    assert (_well(wells, "B3")["sample"], _well(wells, "B3")["cq"]) == ("ctrl2", 24.806)
    assert any("read its member experiment.xml" in note for note in notes)
