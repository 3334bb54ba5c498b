"""The long Cq table reader: aliases, delimiters, non-detects, encodings, decimal commas."""

import numpy as np
import pytest

from fibroskin.errors import InputErrors
from fibroskin.io.cq import read_long_cq_table


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_instrument_header_aliases_and_not_detected_spellings(tmp_path):
    path = write(
        tmp_path / "cq.csv",
        "Well,Sample Name,Target Name,CT\nA1,S1,TGFB1,25.1\nA2,S1,TGFB1,Undetermined\nA3,S1,TGFB1,\nA4,S1,TGFB1,-\nA5,S1,TGFB1,NA\n",
    )
    wells, _ = read_long_cq_table(path)
    assert wells["cq"].iloc[0] == pytest.approx(25.1)
    assert wells["cq"].iloc[1:].isna().all()
    assert wells["well"].tolist() == ["A1", "A2", "A3", "A4", "A5"]
    assert wells["line"].tolist() == [2, 3, 4, 5, 6]
    assert (wells["task"] == "unknown").all()


@pytest.mark.parametrize("header", ["sample\ttarget\tCq", "sample\ttarget\tC(t)", "Sample\tTarget\tCt"])
def test_tab_separated_with_each_cq_alias(tmp_path, header):
    wells, _ = read_long_cq_table(write(tmp_path / "cq.tsv", f"{header}\nS 1\tCOL1A1\t20.5\n"))
    assert wells[["sample", "target"]].iloc[0].tolist() == ["S 1", "COL1A1"]
    assert wells["cq"].iloc[0] == pytest.approx(20.5)


def test_utf16_bom_crlf_and_decimal_comma_are_read_with_notes(tmp_path):
    text = "sample;target;cq\r\nS1;TGFB1;23,45\r\nS1;GAPDH;18,05\r\n"
    wells, notes = read_long_cq_table(write(tmp_path / "cq.csv", "\ufeff" + text, "utf-16-le"))
    np.testing.assert_allclose(wells["cq"], [23.45, 18.05])
    assert any("UTF-16" in note for note in notes)
    assert any("decimal commas" in note for note in notes)
    assert any("line endings" in note for note in notes)


def test_every_bad_cq_is_reported_with_file_line_column_value(tmp_path):
    path = write(tmp_path / "cq.tsv", "sample\ttarget\tcq\nS1\tTGFB1\tabc\nS1\tTGFB1\t-3\nS1\tTGFB1\t61.2\n")
    with pytest.raises(InputErrors) as raised:
        read_long_cq_table(path)
    messages = [str(error) for error in raised.value.errors]
    assert len(messages) == 3
    assert f"{path}, line 2, column 'cq': Cq is not a number (found: 'abc')" in messages[0]
    assert "line 3" in messages[1] and "'-3'" in messages[1]
    assert "line 4" in messages[2] and "between 0 and 50" in messages[2]


def test_missing_column_names_what_was_found(tmp_path):
    path = write(tmp_path / "cq.tsv", "sample\tgene_name\tcq\nS1\tTGFB1\t25\n")
    with pytest.raises(InputErrors, match="missing required column.*target.*found: 'sample, gene_name, cq'"):
        read_long_cq_table(path)
