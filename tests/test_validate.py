"""Pre-run checks: every problem named with file, line, column, value, expectation."""

import shutil

import pytest
import yaml

from conftest import ROOT, run_workflow
from fibroskin.errors import InputErrors
from fibroskin.validate import validate_run


def example_config(workdir):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["samples"] = str(workdir / "samples.tsv")
    config["qpcr"]["cq_tables"] = [str(workdir / "cq.tsv")]
    return config


@pytest.fixture
def inputs(tmp_path):
    shutil.copy(ROOT / "config" / "samples.tsv", tmp_path / "samples.tsv")
    shutil.copy(ROOT / "resources" / "example" / "qpcr_cq.tsv", tmp_path / "cq.tsv")
    return tmp_path


def problems(config):
    with pytest.raises(InputErrors) as raised:
        validate_run(config)
    return [str(error) for error in raised.value.errors]


def test_the_example_is_valid(inputs):
    design = validate_run(example_config(inputs))
    assert len(design.samples) == 12
    assert design.markers[:2] == ["TGFB1", "COL1A1"]


def test_all_sheet_problems_are_reported_together(inputs):
    sheet = (inputs / "samples.tsv").read_text().replace("L02\t", "L01\t").replace("H03\thealthy", "H03\thealty")
    (inputs / "samples.tsv").write_text(sheet)
    found = problems(example_config(inputs))
    sheet_path = inputs / "samples.tsv"
    assert any(f"{sheet_path}, line 9, column 'sample'" in text and "'L01'" in text for text in found)
    # the Cq table still has L02, which the sheet lost
    assert any("line" in text and "'L02' is not in the sample sheet" in text for text in found)


def test_misspelled_contrast_level_suggests_the_closest(inputs):
    config = example_config(inputs)
    config["contrasts"]["lesional_vs_healthy"]["target"] = "lesionl"
    (message,) = problems(config)
    assert "target level 'lesionl' does not occur in column 'condition' (did you mean 'lesional'?)" in message
    assert "expected one of healthy, lesional" in message


def test_group_with_one_sample(inputs):
    lines = (inputs / "samples.tsv").read_text().splitlines()
    kept = [line for line in lines if not line.startswith(("L02", "L03", "L04", "L05", "L06"))]
    (inputs / "samples.tsv").write_text("\n".join(kept) + "\n")
    config = example_config(inputs)
    found = problems(config)
    assert any("level 'lesional' has only 1 sample" in text and "line 8" in text for text in found)


def test_paired_test_needs_complete_pairs(inputs):
    config = example_config(inputs)
    config["qpcr"]["test"] = "paired_t"
    found = problems(config)
    # every donor of the example has one sample only
    assert any("patient 'donor_H01' has 1 'healthy' and 0 'lesional'" in text for text in found)


def test_unknown_reference_gene(inputs):
    config = example_config(inputs)
    config["qpcr"]["reference_genes"] = ["GAPDH", "B2M"]
    (message,) = problems(config)
    assert "reference gene 'B2M' is not a target" in message and "column 'target'" in message


def test_reference_gene_never_detected_refused_when_configured(inputs):
    table = (inputs / "cq.tsv").read_text().splitlines()
    table = [
        "\t".join(line.split("\t")[:4] + ["Undetermined"]) if "\tH01\tGAPDH\t" in line else line for line in table
    ]
    (inputs / "cq.tsv").write_text("\n".join(table) + "\n")
    config = example_config(inputs)
    validate_run(config)  # default: excluded later with a warning
    config["qpcr"]["missing_reference"] = "error"
    (message,) = problems(config)
    assert "reference gene 'GAPDH' was not detected in any replicate of sample 'H01' (lines 2, 3, 4)" in message


def test_snakemake_dry_run_refuses_bad_input_before_any_job(example_workdir):
    sheet = example_workdir / "config" / "samples.tsv"
    sheet.write_text(sheet.read_text().replace("H04\t", "H03\t"))
    result = run_workflow(example_workdir, "-n", check=False)
    assert result.returncode == 1
    assert "config/samples.tsv, line 5, column 'sample': sample ID is used more than once (lines 4, 5)" in result.stderr
    assert "resources/example/qpcr_cq.tsv, line" in result.stderr and "sample 'H04' is not in the sample sheet" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (example_workdir / "results").exists()


def test_a_level_used_by_no_contrast_that_looks_like_a_typo_is_noted(inputs):
    sheet = inputs / "samples.tsv"
    sheet.write_text(sheet.read_text().replace("H04\thealthy", "H04\thelathy"))
    design = validate_run(example_config(inputs))
    assert any("'helathy'" in note and "did you mean 'healthy'" in note for note in design.notes)


def test_a_level_that_another_contrast_uses_is_no_typo(inputs):
    # 'healthy_2' is close to 'healthy', but the second contrast uses it: no warning
    sheet = inputs / "samples.tsv"
    text = sheet.read_text()
    for sample in ("H04", "H05", "H06"):
        text = text.replace(f"{sample}\thealthy", f"{sample}\thealthy_2")
    sheet.write_text(text)
    config = example_config(inputs)
    config["contrasts"]["lesional_vs_healthy_2"] = {"column": "condition", "reference": "healthy_2", "target": "lesional"}
    config.pop("rnaseq")
    design = validate_run(config)
    assert not any("used by no contrast" in note for note in design.notes)
    # with only the first contrast it is a suspected typo, as before
    del config["contrasts"]["lesional_vs_healthy_2"]
    design = validate_run(config)
    assert any("'healthy_2'" in note and "used by no contrast" in note for note in design.notes)
