"""Every requirement the Snakemake workflow catalog checks, as its generator checks it.

From the catalog's documentation ("Adding workflows") and its generator script: a
README.md naming "snakemake" and "workflow"; ``workflow/Snakefile``; a ``workflow/rules``
folder of ``.smk`` files; for *standardized usage*, ``config/README.md`` and a
``.snakemake-workflow-catalog.yml`` with ``usage: mandatory-flags`` (``desc``, ``flags``),
``software-stack-deployment`` (``conda``, ``apptainer``, ``apptainer+conda``) and ``report``;
quality badges from ``snakemake --lint`` run bare in the repository's root and from
``snakefmt --check -v`` on the Snakefile and the rule files; a repository small enough to
clone. The deployment it shows (``snakedeploy deploy-workflow``, a module using
``config/config.yaml``) is run end to end by ``tests/test_module_host.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, snakemake_executable

CATALOG_FILE = ROOT / ".snakemake-workflow-catalog.yml"


def test_the_catalog_finds_the_workflow():
    readme = (ROOT / "README.md").read_text().lower()
    assert "snakemake" in readme and "workflow" in readme
    assert (ROOT / "workflow" / "Snakefile").is_file()
    rule_files = list((ROOT / "workflow" / "rules").iterdir())
    assert rule_files and all(path.suffix == ".smk" for path in rule_files), rule_files


def test_standardized_usage_files():
    assert (ROOT / "config" / "README.md").is_file()
    assert (ROOT / "config" / "config.yaml").is_file()  # the configfile snakedeploy's Snakefile names
    settings = yaml.safe_load(CATALOG_FILE.read_text())
    assert set(settings) == {"usage"}
    usage = settings["usage"]
    assert set(usage) <= {"mandatory-flags", "software-stack-deployment", "report"}
    flags = usage["mandatory-flags"]
    assert set(flags) == {"desc", "flags"} and isinstance(flags["desc"], str) and flags["desc"].strip()
    assert isinstance(flags["flags"], str) or all(isinstance(flag, str) for flag in flags["flags"])
    deployment = usage["software-stack-deployment"]
    assert set(deployment) == {"conda", "apptainer", "apptainer+conda"}
    assert all(isinstance(value, bool) for value in deployment.values())
    assert usage["report"] is True  # test_module_host builds report.zip through a deployed module


def test_config_readme_documents_every_config_key():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    readme = (ROOT / "config" / "README.md").read_text()
    for key, spec in schema["properties"].items():
        assert f"`{key}`" in readme or f"`{key}." in readme, key
        for sub in (spec.get("properties") or {}):
            assert f"`{sub}`" in readme or f"`{key}.{sub}`" in readme, f"{key}.{sub}"


def test_linting_as_the_catalog_runs_it():
    result = subprocess.run([snakemake_executable(), "--lint"], cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Lints for" not in output, output


def test_formatting_as_the_catalog_checks_it():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    files = [ROOT / "workflow" / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run([str(snakefmt), "--check", "-v", *map(str, files)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_repository_is_small_enough_to_clone():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    sizes = {name: (ROOT / name).stat().st_size for name in tracked.split("\0") if name and (ROOT / name).is_file()}
    assert max(sizes.values()) < 5e6, max(sizes, key=sizes.get)
    assert sum(sizes.values()) < 50e6
