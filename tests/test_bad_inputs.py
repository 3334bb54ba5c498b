"""The bad-input corpus (tests/data/bad/): every case refused at once with its message, or
accepted with its note; a few through the real snakemake command line.

Each folder of ``tests/data/bad`` holds ``case.yaml`` (description, config overrides,
expected outcome and message fragments) and the files that differ from ``base/`` (the
bundled example). ``tests/data/bad/make_cases.py`` documents how each was made.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import time
from pathlib import Path

import pytest
import yaml

from conftest import DATA, run_workflow
from fibroskin.errors import InputErrors
from fibroskin.validate import validate_run

BAD = DATA / "bad"
CASES = sorted(path.parent.name for path in BAD.glob("*/case.yaml"))
CLI_CASES = [name for name in CASES if yaml.safe_load((BAD / name / "case.yaml").read_text()).get("cli")]

#: Seconds from start to refusal of each CLI case, printed at the end (measured, not asserted).
REFUSAL_TIMES: dict[str, float] = {}


def load_case(name: str) -> dict:
    return yaml.safe_load((BAD / name / "case.yaml").read_text())


def merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into a copy of ``base``; ``None`` removes the key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def prepare(name: str, workdir: Path) -> dict:
    """Lay the case out in ``workdir`` (base files, then the case's own) and write config.yaml."""
    workdir.mkdir(parents=True, exist_ok=True)
    for source in (BAD / "base").iterdir():
        if source.name != "config.yaml":
            shutil.copyfile(source, workdir / source.name)
    spec = load_case(name)
    for file_name in spec["files"]:
        shutil.copyfile(BAD / name / file_name, workdir / file_name)
    config = merge(yaml.safe_load((BAD / "base" / "config.yaml").read_text()), spec["config"])
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return spec


def test_the_corpus_is_large_and_covers_every_file_type():
    assert len(CASES) >= 40
    specs = [load_case(name) for name in CASES]
    assert sum(spec["expect"] == "error" for spec in specs) >= 40
    assert all(spec["messages"] for spec in specs)
    kinds = {name.split("_")[0] for name in CLI_CASES}
    assert {"sheet", "cq", "export", "counts", "config"} <= kinds


def test_the_base_of_the_corpus_is_valid(tmp_path, monkeypatch):
    workdir = tmp_path / "base"
    workdir.mkdir()
    for source in (BAD / "base").iterdir():
        shutil.copyfile(source, workdir / source.name)
    monkeypatch.chdir(workdir)
    design = validate_run(yaml.safe_load((workdir / "config.yaml").read_text()))
    assert len(design.samples) == 12 and design.qpcr and design.rnaseq


@pytest.mark.parametrize("name", CASES)
def test_case(name, tmp_path, monkeypatch):
    workdir = tmp_path / name
    spec = prepare(name, workdir)
    monkeypatch.chdir(workdir)  # paths in the config resolve against the working directory
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    if spec["expect"] == "error":
        with pytest.raises(InputErrors) as raised:
            validate_run(config)
        text = str(raised.value)
        assert raised.value.errors
        for fragment in spec["messages"]:
            assert fragment in text, f"{name}: {fragment!r} not in\n{text}"
        # every problem says where it is: a file, or a config key
        for error in raised.value.errors:
            assert error.file is not None or error.column is not None or "config" in error.message, str(error)
    else:
        design = validate_run(config)
        notes = "\n".join(design.notes)
        for fragment in spec["messages"]:
            assert fragment in notes, f"{name}: {fragment!r} not in the notes\n{notes}"


def snapshot(directory: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file below ``directory``."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def seed_results(workdir: Path) -> dict[str, str]:
    """Results a user already has from an earlier run, which a refused run must not touch."""
    results = workdir / "results"
    (results / "qpcr").mkdir(parents=True)
    (results / "lesional_vs_healthy" / "figures").mkdir(parents=True)
    (results / "qpcr" / "delta_cq.tsv").write_text("sample\ttarget\tdcq\nH01\tTGFB1\t5.25\n")
    (results / "lesional_vs_healthy" / "summary.tsv").write_text("gene\tverdict\nTGFB1\tup\n")
    (results / "lesional_vs_healthy" / "figures" / "qpcr_markers.svg").write_text("<svg/>\n")
    return snapshot(results)


@pytest.mark.parametrize("name", CLI_CASES)
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
def test_cli_refuses_before_any_job(name, dry_run, tmp_path):
    workdir = tmp_path / "run"
    spec = prepare(name, workdir)
    assert spec["expect"] == "error"
    before = seed_results(workdir)
    started = time.perf_counter()
    result = run_workflow(workdir, *(["-n"] if dry_run else []), cores=1, check=False)
    REFUSAL_TIMES[f"{name} ({'-n' if dry_run else 'run'})"] = time.perf_counter() - started
    assert result.returncode == 1, result.stdout + result.stderr
    for fragment in spec["messages"]:
        assert fragment in result.stderr, f"{fragment!r} not in\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout
    assert "Exception" not in result.stderr
    # refused before the DAG was built: no job started, nothing in results/ touched
    assert "Building DAG" not in result.stderr and "rule " not in result.stdout
    assert snapshot(workdir / "results") == before
    assert not (workdir / "logs").exists()


def teardown_module(module):
    if REFUSAL_TIMES:
        print("\nseconds from start to refusal (snakemake CLI):")
        for name, seconds in sorted(REFUSAL_TIMES.items()):
            print(f"  {name}: {seconds:.1f}")
