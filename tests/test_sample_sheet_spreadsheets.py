"""Sample sheets kept as .xlsx or .ods workbooks read exactly as the TSV (the corpus holds the error cases)."""

from __future__ import annotations

import datetime
import shutil

import pytest
import yaml

from conftest import DATA
from fibroskin.errors import InputError
from fibroskin.io.spreadsheet import SheetSource, cell_text, column_letter, is_spreadsheet, read_spreadsheet_table
from fibroskin.validate import validate_run
from spreadsheet_files import write_workbook

BASE = DATA / "bad" / "base"


def example_rows() -> list[list[str]]:
    return [line.split("\t") for line in (BASE / "samples.tsv").read_text().splitlines()]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for source in BASE.iterdir():
        shutil.copyfile(source, tmp_path / source.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_a_workbook_sheet_gives_the_design_of_the_tsv(workdir, suffix):
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    from_text = validate_run(config)
    # a title row, the table from column B, on the second sheet
    rows = [["", "Scleromyxedema cohort, 2024"]] + [[""] + row for row in example_rows()]
    write_workbook(workdir / f"samples{suffix}", {"Notes": [["nothing here"]], "Samples": rows})
    from_workbook = validate_run(config | {"samples": f"samples{suffix}", "samples_sheet": "Samples"})
    text_table = from_text.samples.drop(columns="__line__")
    book_table = from_workbook.samples.drop(columns="__line__")
    assert book_table.equals(text_table)
    assert from_workbook.samples["__line__"].tolist() == [line + 1 for line in from_text.samples["__line__"]]
    assert [c.name for c in from_workbook.contrasts] == [c.name for c in from_text.contrasts]
    source = from_workbook.sample_sheet
    assert isinstance(source, SheetSource) and str(source) == f"samples{suffix} (sheet 'Samples')"
    assert source.letters == {"sample": "B", "condition": "C", "patient": "D", "batch": "E"}


def test_the_first_sheet_is_read_unless_one_is_named(tmp_path):
    path = write_workbook(tmp_path / "s.xlsx", {"First": [["sample", "condition"], ["A", "x"]],
                                                "Second": [["sample", "condition"], ["B", "y"]]})
    assert read_spreadsheet_table(path)[0]["sample"].tolist() == ["A"]
    assert read_spreadsheet_table(path, "Second")[0]["sample"].tolist() == ["B"]


def test_errors_name_the_sheet_row_and_column_letter(tmp_path):
    path = write_workbook(tmp_path / "s.ods", {"Sheet1": [[], ["sample", "condition"], ["A", ""]]})
    table, source, _ = read_spreadsheet_table(path)
    assert table["__line__"].tolist() == [3] and table.attrs["header_row"] == 2
    error = InputError("sample 'A' has no condition", file=source, row=3, column="condition", value="")
    assert str(error) == f"{path} (sheet 'Sheet1'), row 3, column 'condition' (B): sample 'A' has no condition (found: '')"


def test_cells_read_as_the_lab_typed_them():
    assert [cell_text(v) for v in (1.0, 2.5, 12, None, float("nan"), True, "  H 01 ", datetime.date(2024, 3, 1),
                                   datetime.datetime(2024, 3, 1, 9, 30))] == [
        "1", "2.5", "12", "", "", "TRUE", "H 01", "2024-03-01", "2024-03-01 09:30:00"]
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_workbooks_are_recognised_by_content_as_well_as_suffix(tmp_path):
    renamed = write_workbook(tmp_path / "sheet.xlsx", {"Sheet1": [["sample"], ["A"]]}).rename(tmp_path / "sheet.tsv")
    assert is_spreadsheet(renamed)
    assert is_spreadsheet(write_workbook(tmp_path / "s.ods", {"S": [["sample"]]}).rename(tmp_path / "s.txt"))
    text = tmp_path / "samples.tsv"
    text.write_text("sample\tcondition\n")
    assert not is_spreadsheet(text)
    assert is_spreadsheet(tmp_path / "missing.xls")  # by suffix, before it exists
