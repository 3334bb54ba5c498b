"""RDML 1.0-1.4 (Real-time PCR Data Markup Language), as every vendor writes it.

Samples give the role (``type``: unkn, std, ntc, nac ...) and the standard's quantity,
optionally per target (RDML 1.3 ``targetId``); each ``run`` is a plate, each ``react`` a
well (``A1`` style when the run's ``pcrFormat`` has row letters and several columns, the
reaction number otherwise); ``data/tar`` is the target and ``data/cq`` the Cq (absent or -1
= not detected). Data marked ``excl`` are dropped with a note.

Vendor conventions, honoured and noted:

- Bio-Rad CFX Manager writes a zip whose first bytes are ``PK\\x07\\x08`` and whose member is
  ``<experiment>.xml``, not ``rdml_data.xml``; its second-channel and melt runs carry
  fluorescence curves without any Cq (such a run is skipped, noted).
- LightCycler 96 names samples by GUID (the name is in ``description``), targets
  ``<dye>@<gene>`` (channels without a gene carry a GUID and hold no assay: dropped), writes
  Cq 100 for "no Cq" and extrapolates Cq beyond the run's last cycle: both read as not
  detected, with ``cq_raw`` keeping what was written.
- StepOne writes its target efficiency in percent (93.9), RDML asks for the amplification
  factor (1.939).
- A file whose runs hold raw amplification or melting fluorescence and no Cq at all is
  refused: Cq must be called (by the instrument software or rdmlpython's LinRegPCR) first.

Why the standard library and not ``rdmlpython``: measured on the project's eight real RDML
files, rdmlpython 1.7.2 (PyPI, May 2023) refuses the two RDML 1.4 files ("Unknown or
unsupported RDML file version") and the two Bio-Rad zips unless loaded with a second method
(``load_any_zip``); it pulls in lxml, keeps no line numbers, and its Cq values are the same
strings this reader reads. Reading Cq values takes ~200 lines of ``xml.etree`` here, with
every error pointing at the line of the ``<data>`` element.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

import pandas as pd

from fibroskin.errors import ErrorCollector, InputError, InputErrors
from fibroskin.io.exports import Parsed, instrument_value, normalise_well, well_number_to_position

NAMESPACE = "http://www.rdml.org"

_TASKS = {"unkn": "unknown", "std": "standard", "ntc": "ntc", "nac": "ntc", "ntp": "ntc", "nrt": "ntc"}
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: LightCycler 96 writes this Cq for "no Cq".
LC96_NO_CQ = "100"


class _LineTreeBuilder:
    """Drive an ElementTree ``TreeBuilder`` from expat and remember each element's line.

    ``xml.etree.ElementTree.parse`` forgets where elements were; error messages must name
    the line, so the expat parser is driven here and feeds the standard ``TreeBuilder``.
    """

    def __init__(self) -> None:
        self.builder = ElementTree.TreeBuilder()
        self.lines: dict[ElementTree.Element, int] = {}
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self.builder.data
        self.parser.buffer_text = True

    @staticmethod
    def _tag(name: str) -> str:
        return "{" + name if "}" in name else name

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        attributes = {self._tag(key): value for key, value in attributes.items()}
        element = self.builder.start(self._tag(name), attributes)
        self.lines[element] = self.parser.CurrentLineNumber

    def _end(self, name: str) -> None:
        self.builder.end(self._tag(name))

    def parse(self, data: bytes) -> ElementTree.Element:
        self.parser.Parse(data, True)
        return self.builder.close()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child_text(element: ElementTree.Element, name: str) -> str | None:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else None


def _descendants(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element.iter() if _local(child.tag) == name]


def is_rdml_archive(names: list[str]) -> bool:
    """A zip holding ``rdml_data.xml`` (the standard) or a single XML file (Bio-Rad CFX)."""
    xml = [name for name in names if name.lower().endswith(".xml")]
    return any(Path(name).name.lower() == "rdml_data.xml" for name in names) or len(xml) == 1


def rdml_bytes(path: Path) -> tuple[bytes, str, list[str]]:
    """The RDML XML of ``path`` (bare or zipped), where it was found, and notes."""
    if not zipfile.is_zipfile(path):
        return path.read_bytes(), "", []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        members = [name for name in names if Path(name).name.lower() == "rdml_data.xml"]
        notes = []
        if not members:
            members = [name for name in names if name.lower().endswith(".xml")]
            if len(members) != 1:
                raise InputErrors(
                    [InputError("RDML archive has no rdml_data.xml", file=path, value=", ".join(names[:5]), expected="an .rdml zip holding rdml_data.xml")]
                )
            notes.append(f"{path}: RDML archive without rdml_data.xml (as Bio-Rad CFX Manager writes it); read its member {members[0]}")
        with path.open("rb") as handle:
            if handle.read(4) == b"PK\x07\x08":
                notes.append(f"{path}: zip starts with a spanning marker (PK\\x07\\x08, Bio-Rad); read as an ordinary zip")
        return archive.read(members[0]), f" (in {members[0]} inside the archive)", notes


def read(path: Path, errors: ErrorCollector) -> Parsed | None:
    """Read an RDML file into a :class:`~fibroskin.io.exports.Parsed` table."""
    data, inside, notes = rdml_bytes(path)
    tracker = _LineTreeBuilder()
    try:
        root = tracker.parse(data)
    except expat.ExpatError as error:
        if not data.strip():
            message = f"file is empty{inside}"
        elif error.code == expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]:
            # expat's "no element found" at (or past) the end means a cut-off file
            message = f"not well-formed XML{inside}: the file ends before its elements are closed (cut off?)"
        else:
            message = f"not well-formed XML{inside}: {expat.errors.messages[error.code]}"
        # after a final newline expat points at a line the file does not have
        last_line = max(data.count(b"\n") + (0 if data.endswith(b"\n") else 1), 1)
        errors.add(message, file=path, row=min(error.lineno, last_line), expected="a valid RDML file")
        return None
    if _local(root.tag) != "rdml":
        errors.add(f"root element is <{_local(root.tag)}>{inside}", file=path, row=tracker.lines.get(root), expected="<rdml>")
        return None
    if not root.tag.startswith("{" + NAMESPACE):
        notes.append(f"{path}: RDML without the {NAMESPACE} namespace; read by element names")
    publisher = _child_text(_children(root, "id")[0], "publisher") if _children(root, "id") else ""
    notes.append(f"{path}: RDML version {root.get('version', 'unknown')}" + (f" written by {publisher}" if publisher else ""))

    samples, sample_notes = _samples(root, path)
    notes += sample_notes
    targets, channels, values, target_notes = _targets(root, path)
    notes += target_notes

    records: list[dict[str, object]] = []
    runs = [(experiment, run) for experiment in _children(root, "experiment") for run in _children(experiment, "run")]
    run_ids = [run.get("id", "") for _, run in runs]
    runs_with_cq = [(experiment, run) for experiment, run in runs if _descendants(run, "cq")]
    if runs and not runs_with_cq:
        has_amplification = any(_descendants(run, "adp") for _, run in runs)
        kind = "raw amplification fluorescence" if has_amplification else "melting-curve fluorescence"
        raise InputErrors(
            [
                InputError(
                    f"RDML file holds {kind} only, no Cq in any of its {sum(len(_children(run, 'react')) for _, run in runs)} reactions{inside}",
                    file=path,
                    expected="Cq values: call them first (in the instrument software, or with rdmlpython's LinRegPCR), then export RDML with Cq",
                )
            ]
        )
    for experiment, run in runs:
        if (experiment, run) not in runs_with_cq:
            notes.append(f"{path}: run '{run.get('id', '')}' holds fluorescence curves but no Cq; not analysed")
            continue
        run_id = run.get("id", "")
        plate = run_id if run_ids.count(run_id) == 1 else f"{experiment.get('id', '')}/{run_id}"
        columns, row_label = _columns(run)
        for react in _children(run, "react"):
            react_id = react.get("id", "")
            sample_ref = _children(react, "sample")
            sample_id = sample_ref[0].get("id", "") if sample_ref else ""
            well = _well(react_id, columns, row_label)
            for data_element in _children(react, "data"):
                target_ref = _children(data_element, "tar")
                target = target_ref[0].get("id", "") if target_ref else ""
                line = tracker.lines.get(data_element, tracker.lines.get(react, 0))
                if target in channels:
                    continue
                if target and targets and target not in targets:
                    errors.add(f"data refers to a target not defined in the file{inside}", file=path, row=line, column="tar", value=target, expected=", ".join(sorted(targets)))
                if _child_text(data_element, "excl") is not None:
                    notes.append(f"{path}: line {line}: well {well} {target} excluded in the file ({_child_text(data_element, 'excl') or 'no reason given'}); dropped")
                    continue
                name, types, quantities = samples.get(sample_id, (sample_id, {}, {}))
                rdml_type = types.get(target, types.get(None, "unkn"))
                quantity = quantities.get(target, quantities.get(None, ""))
                cycles = [float(cycle.text) for cycle in _descendants(data_element, "cyc") if cycle.text]
                records.append(
                    {
                        "plate": plate,
                        "well": well,
                        "sample": name,
                        "target": targets.get(target, target),
                        "cq": _child_text(data_element, "cq") or "",
                        "task": rdml_type,
                        "quantity": quantity if rdml_type == "std" else "",
                        "last_cycle": max(cycles) if cycles else float("nan"),
                        "__line__": line,
                    }
                )
    if not records:
        errors.add(f"RDML file holds no reactions with data{inside}", file=path, expected="<experiment><run><react><data> elements")
        return None
    table = pd.DataFrame.from_records(records)
    table["cq_raw"] = table["cq"]
    notes += _no_cq_conventions(table, path, publisher or "")
    table = table.drop(columns="last_cycle")
    unknown_types = ~table["task"].isin(list(_TASKS) + ["pos", "opt"])
    for index in table.index[unknown_types]:
        errors.add(f"unknown RDML sample type{inside}", file=path, row=int(table.at[index, "__line__"]), column="type", value=table.at[index, "task"], expected="unkn, std, ntc, nac, ntp, nrt, pos or opt")
    # reported here with RDML's own vocabulary, so dropped before the generic task check repeats it
    table = table.loc[~unknown_types].reset_index(drop=True)
    table["task"] = table["task"].map(lambda value: _TASKS.get(value, "pos ctrl" if value in {"pos", "opt"} else value))
    plates = sorted(set(table["plate"]))
    for row in values:
        row["plate"] = plates[0] if len(plates) == 1 else ""
    return Parsed(table=table, plate=path.name, notes=notes, instrument_values=values)


def _samples(root: ElementTree.Element, path: Path) -> tuple[dict[str, tuple[str, dict, dict]], list[str]]:
    """Sample id -> (name, type per target, quantity per target); ``None`` = every target."""
    samples: dict[str, tuple[str, dict, dict]] = {}
    renamed = 0
    for sample in _children(root, "sample"):
        sample_id = sample.get("id", "")
        types = {element.get("targetId"): (element.text or "unkn").strip() for element in _children(sample, "type")}
        quantities = {element.get("targetId"): _child_text(element, "value") or "" for element in _children(sample, "quantity")}
        description = _child_text(sample, "description") or ""
        name = sample_id
        if _GUID.fullmatch(sample_id) and description:
            name, renamed = description, renamed + 1
        samples[sample_id] = (name, types, quantities)
    notes = [f"{path}: {renamed} sample(s) identified by a GUID (LightCycler 96): named by their description"] if renamed else []
    return samples, notes


def _targets(root: ElementTree.Element, path: Path) -> tuple[dict[str, str], set[str], list[dict[str, object]], list[str]]:
    """Target id -> name; unused channels; the instrument's efficiencies; notes.

    The LightCycler 96 names targets ``<dye>@<gene>``: the name is the gene. A ``<dye>@<GUID>``
    target is a dye channel without an assay.
    """
    names: dict[str, str] = {}
    channels: set[str] = set()
    values: list[dict[str, object]] = []
    notes: list[str] = []
    for target in _children(root, "target"):
        target_id = target.get("id", "")
        dye_refs = _children(target, "dyeId")
        dye = (dye_refs[0].get("id") or dye_refs[0].text or "").strip() if dye_refs else ""
        name = target_id
        if dye and target_id.startswith(dye + "@"):
            gene = target_id[len(dye) + 1 :]
            if _GUID.fullmatch(gene):
                channels.add(target_id)
                continue
            name = gene
        names[target_id] = name
        efficiency = _child_text(target, "amplificationEfficiency")
        if efficiency:
            number = float(efficiency) if re.fullmatch(r"[0-9.eE+-]+", efficiency) else float("nan")
            if 1.0 < number < 3.0:
                row = instrument_value(path, "", "amplification", efficiency, target=name)
            elif 3.0 <= number <= 300.0:
                row = instrument_value(path, "", "efficiency_pct", efficiency, target=name)
                notes.append(f"{path}: target {name}: amplificationEfficiency {efficiency} is a percentage (RDML asks for the factor, e.g. 1.94)")
            else:
                row = None
            values += [row] if row else []
    renamed = [f"{target_id} -> {name}" for target_id, name in names.items() if target_id != name]
    if renamed:
        notes.append(f"{path}: targets named <dye>@<gene> (LightCycler 96) read as the gene: {', '.join(renamed)}")
    if channels:
        notes.append(f"{path}: {len(channels)} dye channel(s) without an assigned target dropped: {', '.join(sorted(c.split('@')[0] for c in channels))}")
    return names, channels, values, notes


def _no_cq_conventions(table: pd.DataFrame, path: Path, publisher: str) -> list[str]:
    """RDML -1, LightCycler 96's 100 and Cq extrapolated past the last cycle: not detected."""
    notes = []
    numbers = pd.to_numeric(table["cq"], errors="coerce")
    negative = numbers < 0
    if negative.any():
        notes.append(f"{path}: {int(negative.sum())} Cq value(s) of -1 (RDML for 'no Cq') read as not detected")
    lc96 = (table["cq"] == LC96_NO_CQ) & ("roche" in publisher.lower())
    if lc96.any():
        notes.append(f"{path}: {int(lc96.sum())} Cq value(s) of 100 (LightCycler 96 for 'no Cq') read as not detected")
    beyond = (numbers > table["last_cycle"]) & ~lc96
    if beyond.any():
        examples = ", ".join(sorted(set(table.loc[beyond, "cq"]), key=float)[:5])
        notes.append(
            f"{path}: {int(beyond.sum())} Cq value(s) beyond the run's last cycle ({table.loc[beyond, 'last_cycle'].max():g}), "
            f"extrapolated by the instrument software ({examples} ...), read as not detected"
        )
    table.loc[negative | lc96 | beyond, "cq"] = ""
    return notes


def _columns(run: ElementTree.Element) -> tuple[int | None, str]:
    formats = _children(run, "pcrFormat")
    if not formats:
        return None, ""
    columns_text = _child_text(formats[0], "columns") or ""
    row_label = (_child_text(formats[0], "rowLabel") or "").upper()
    return (int(columns_text) if columns_text.isdigit() else None), row_label


def _well(react_id: str, columns: int | None, row_label: str) -> str:
    # RDML >= 1.1 numbers reactions row-major (1 = A1, 13 = B1 on a 96-well plate); rotors
    # (one column, "123" labels) keep their position number.
    if react_id.isdigit() and columns and columns > 1 and row_label == "ABC":
        return well_number_to_position(int(react_id), columns)
    return normalise_well(react_id) or react_id
