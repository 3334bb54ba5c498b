"""Property tests (hypothesis, derandomized) for the readers, the TSV writer and dCq statistics."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA
from fibroskin import qpcr
from fibroskin.config import Contrast
from fibroskin.errors import InputErrors
from fibroskin.io.counts import read_counts
from fibroskin.io.cq import read_long_cq_table, wells_from_frame
from fibroskin.io.instruments import read_qpcr_file
from fibroskin.tables import read_tsv, write_tsv
from fibroskin.validate import validate_run

PROPERTY = settings(
    derandomize=True,
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Identifiers as labs write them: letters, digits, spaces inside, dashes, dots, underscores.
IDENTIFIER = st.text(alphabet="ABCHLXabcz019_-. ", min_size=1, max_size=8).map(str.strip).filter(bool)
FLOATS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------- write_tsv / read_tsv
@PROPERTY
@given(
    st.lists(st.tuples(IDENTIFIER, IDENTIFIER, st.one_of(st.none(), FLOATS), st.integers(-(10**9), 10**9)), min_size=1, max_size=30)
)
def test_tables_round_trip_through_write_and_read(tmp_path_factory, rows):
    table = pd.DataFrame(rows, columns=["sample", "target", "value", "count"])
    table["value"] = table["value"].astype(float)
    path = tmp_path_factory.mktemp("tsv") / "table.tsv"
    write_tsv(table, path)
    back = read_tsv(path)
    assert back["sample"].tolist() == table["sample"].tolist()  # "001", "NA", "1.0" stay text
    assert back["target"].tolist() == table["target"].tolist()
    assert back["count"].tolist() == table["count"].tolist()
    np.testing.assert_allclose(back["value"], table["value"], rtol=1e-9, atol=0)  # %.10g; NaN <-> NA
    write_tsv(back, path.with_name("again.tsv"))
    assert path.with_name("again.tsv").read_bytes() == path.read_bytes()  # deterministic bytes


# ---------------------------------------------------------------- Cq and count readers
CQ_VALUE = st.one_of(st.none(), st.integers(500, 4500).map(lambda centi: centi / 100))


@PROPERTY
@given(st.lists(st.tuples(IDENTIFIER, IDENTIFIER, CQ_VALUE), min_size=1, max_size=40), st.sampled_from(["\t", ",", ";"]))
def test_long_cq_tables_round_trip(tmp_path_factory, rows, delimiter):
    table = pd.DataFrame(rows, columns=["sample", "target", "cq"])
    path = tmp_path_factory.mktemp("cq") / "cq.txt"
    text = "sample{d}target{d}cq\n".format(d=delimiter) + "".join(
        f"{s}{delimiter}{t}{delimiter}{'Undetermined' if c is None else c}\n" for s, t, c in rows
    )
    path.write_text(text)
    for wells, _ in (read_long_cq_table(path), read_qpcr_file(path)):
        assert wells["sample"].tolist() == table["sample"].tolist()
        assert wells["target"].tolist() == table["target"].tolist()
        np.testing.assert_array_equal(wells["cq"].to_numpy(), table["cq"].astype(float).to_numpy())
        assert wells["line"].tolist() == list(range(2, len(rows) + 2))


@PROPERTY
@given(
    st.lists(IDENTIFIER, min_size=1, max_size=6, unique=True),
    st.integers(1, 25),
    st.data(),
)
def test_count_matrices_round_trip(tmp_path_factory, samples, n_genes, data):
    samples = [f"S_{name}" for name in samples]  # never a bare number or "gene"
    values = data.draw(st.lists(st.lists(st.integers(0, 10**12), min_size=len(samples), max_size=len(samples)), min_size=n_genes, max_size=n_genes))
    genes = [f"ENSG{index:011d}" for index in range(n_genes)]
    table = pd.DataFrame(values, columns=samples, index=pd.Index(genes, name="gene"))
    path = tmp_path_factory.mktemp("counts") / "counts.tsv"
    write_tsv(table.reset_index(), path)
    counts, _ = read_counts(path, samples=samples)
    assert counts.index.tolist() == genes and counts.columns.tolist() == samples
    np.testing.assert_array_equal(counts.to_numpy(), table.to_numpy())
    shuffled = data.draw(st.permutations(samples))
    counts_by_sheet, _ = read_counts(path, samples=shuffled)
    assert counts_by_sheet.columns.tolist() == list(shuffled)  # sheet order, values follow their sample
    pd.testing.assert_frame_equal(counts_by_sheet[samples], counts)


# ---------------------------------------------------------------- dCq statistics
REFERENCES = ("GAPDH", "ACTB")
TARGETS = ("TGFB1", "COL1A1")
SAMPLES = [f"H{i}" for i in range(1, 4)] + [f"L{i}" for i in range(1, 4)]
SHEET = pd.DataFrame({"sample": SAMPLES, "condition": ["healthy"] * 3 + ["lesional"] * 3})
CONTRAST = Contrast("lesional_vs_healthy", "condition", "healthy", "lesional")
N_WELLS = len(SAMPLES) * (len(REFERENCES) + len(TARGETS)) * 2  # duplicates

cq_values = st.lists(st.integers(1500, 2800).map(lambda centi: centi / 100), min_size=N_WELLS, max_size=N_WELLS)


def make_wells(values: list[float]) -> pd.DataFrame:
    keys = [(s, t) for s in SAMPLES for t in REFERENCES + TARGETS for _ in range(2)]
    frame = pd.DataFrame({"sample": [k[0] for k in keys], "target": [k[1] for k in keys], "cq": values})
    return wells_from_frame(frame)


def results(wells: pd.DataFrame, sheet: pd.DataFrame = SHEET) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    qc, delta = qpcr.analyse_wells(wells, list(REFERENCES))
    statistics = qpcr.contrast_statistics(delta, sheet, CONTRAST, list(REFERENCES), list(TARGETS))
    relative = qpcr.relative_expression(delta, sheet, CONTRAST, list(REFERENCES), list(TARGETS))
    return delta, statistics, relative


def assert_same(first: pd.DataFrame, second: pd.DataFrame, columns=None) -> None:
    columns = columns or list(first.columns)
    pd.testing.assert_frame_equal(
        first[columns].reset_index(drop=True), second[columns].reset_index(drop=True), check_exact=False, rtol=1e-9, atol=1e-9
    )


@PROPERTY
@given(cq_values, st.randoms(use_true_random=False))
def test_row_order_of_wells_and_sheet_changes_no_result(values, random):
    wells = make_wells(values)
    order = list(range(len(wells)))
    random.shuffle(order)
    sheet_order = list(range(len(SHEET)))
    random.shuffle(sheet_order)
    shuffled = wells.iloc[order].reset_index(drop=True)
    for first, second in zip(results(wells), results(shuffled, SHEET.iloc[sheet_order].reset_index(drop=True))):
        assert_same(first, second)


@PROPERTY
@given(cq_values, st.sampled_from(SAMPLES), st.integers(-400, 400).map(lambda centi: centi / 100))
def test_shifting_every_cq_of_a_sample_changes_no_dcq_result(values, sample, shift):
    """A sample with more (or less) input RNA shifts all its Cq alike; dCq cancels it."""
    wells = make_wells(values)
    shifted = wells.copy()
    chosen = shifted["sample"] == sample
    shifted.loc[chosen, "cq"] = shifted.loc[chosen, "cq"] + shift
    (delta, statistics, relative), (delta2, statistics2, relative2) = results(wells), results(shifted)
    assert_same(delta, delta2, ["sample", "target", "n_detected", "flagged", "dcq"])
    assert_same(statistics, statistics2)
    assert_same(relative, relative2)


# ---------------------------------------------------------------- junk never gives a traceback
TABLE_CHARS = "\t,;|  \"'\n\r#.-0123456789abcHLsampletargcqgenedNA\x00\xa0é"
junk_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=TABLE_CHARS, max_size=300),
    st.lists(st.lists(st.text(alphabet="0123456789.,-eaNHL_ ", max_size=6), max_size=6).map("\t".join), max_size=8).map(
        lambda rows: "gene_id\tH01\tL01\n" + "\n".join(rows)
    ),
)
junk = st.one_of(st.binary(max_size=300), junk_text.map(lambda text: text.encode("utf-8")), junk_text.map(lambda t: t.encode("utf-16")))


def refused_or_read(function, *arguments, **keywords) -> None:
    try:
        function(*arguments, **keywords)
    except InputErrors as problems:
        assert problems.errors and str(problems).startswith("fibroskin found")


@PROPERTY
@given(junk)
def test_junk_given_to_the_readers_gives_input_errors_only(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("junk") / "junk.txt"
    path.write_bytes(data)
    refused_or_read(read_long_cq_table, path)
    refused_or_read(read_qpcr_file, path)
    refused_or_read(read_counts, path)
    refused_or_read(read_counts, path, samples=["H01", "L01"])


@pytest.fixture(scope="module")
def example_inputs(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("inputs")
    for source in (DATA / "bad" / "base").iterdir():
        shutil.copyfile(source, workdir / source.name)
    return workdir


@PROPERTY
@given(st.sampled_from(["samples.tsv", "cq.tsv", "counts.tsv"]), junk)
def test_junk_given_to_validate_run_gives_input_errors_only(example_inputs, tmp_path_factory, which, data):
    workdir = tmp_path_factory.mktemp("validate")
    for source in example_inputs.iterdir():
        shutil.copyfile(source, workdir / source.name)
    (workdir / which).write_bytes(data)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["samples"] = str(workdir / "samples.tsv")
    config["qpcr"]["cq_tables"] = [str(workdir / "cq.tsv")]
    config["rnaseq"]["counts"] = str(workdir / "counts.tsv")
    with pytest.raises(InputErrors) as raised:  # junk is refused, with a message naming a file
        validate_run(config)
    assert raised.value.errors and any(error.file is not None for error in raised.value.errors)


@PROPERTY
@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)),
        max_leaves=12,
    )
)
def test_junk_configs_give_input_errors_only(config):
    refused_or_read(validate_run, config)
