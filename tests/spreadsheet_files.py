"""Write small Excel (.xlsx) and OpenDocument (.ods) workbooks, byte for byte the same every time.

Test files only: each workbook holds its cells as text or numbers, in the minimal package
layout each format requires (Office Open XML SpreadsheetML with inline strings; ODF 1.2
spreadsheet with ``mimetype`` stored first), zipped with a fixed timestamp so that the
committed bad-input cases do not change when regenerated.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

Cell = str | int | float | None
Sheets = dict[str, list[list[Cell]]]

_STAMP = (1980, 1, 1, 0, 0, 0)


def _zip(members: list[tuple[str, str, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text, compression in members:
            info = zipfile.ZipInfo(name, date_time=_STAMP)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def xlsx_bytes(sheets: Sheets) -> bytes:
    """An .xlsx workbook with the given sheets (rows of cells; ``None`` or "" leaves a cell empty)."""
    names = list(sheets)
    members = [
        (
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, len(names) + 1)
            )
            + "</Types>",
            zipfile.ZIP_DEFLATED,
        ),
        (
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
            zipfile.ZIP_DEFLATED,
        ),
        (
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(names, start=1)
            )
            + "</sheets></workbook>",
            zipfile.ZIP_DEFLATED,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(names) + 1)
            )
            + "</Relationships>",
            zipfile.ZIP_DEFLATED,
        ),
    ]
    for i, name in enumerate(names, start=1):
        rows = []
        for number, row in enumerate(sheets[name], start=1):
            cells = []
            for column, value in enumerate(row):
                if value is None or value == "":
                    continue
                reference = f"{_letter(column)}{number}"
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    cells.append(f'<c r="{reference}"><v>{value!r}</v></c>')
                else:
                    cells.append(f'<c r="{reference}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
            if cells:
                rows.append(f'<row r="{number}">{"".join(cells)}</row>')
        members.append((
            f"xl/worksheets/sheet{i}.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + "".join(rows)
            + "</sheetData></worksheet>",
            zipfile.ZIP_DEFLATED,
        ))
    return _zip(members)


def ods_bytes(sheets: Sheets) -> bytes:
    """An .ods workbook with the given sheets (rows of cells; ``None`` or "" leaves a cell empty)."""
    tables = []
    for name, rows in sheets.items():
        xml_rows = []
        for row in rows:
            cells = []
            for value in row:
                if value is None or value == "":
                    cells.append("<table:table-cell/>")
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    cells.append(
                        f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                        f"<text:p>{value!r}</text:p></table:table-cell>"
                    )
                else:
                    cells.append(
                        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p>'
                        "</table:table-cell>"
                    )
            xml_rows.append(f"<table:table-row>{''.join(cells) or '<table:table-cell/>'}</table:table-row>")
        tables.append(
            f'<table:table table:name="{escape(name, {chr(34): "&quot;"})}">{"".join(xml_rows)}</table:table>'
        )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>" + "".join(tables) + "</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return _zip([
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED),
        ("content.xml", content, zipfile.ZIP_DEFLATED),
        ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED),
    ])


def write_workbook(path: Path, sheets: Sheets) -> Path:
    """Write ``sheets`` as .xlsx or .ods, chosen by ``path``'s suffix."""
    path = Path(path)
    path.write_bytes(xlsx_bytes(sheets) if path.suffix == ".xlsx" else ods_bytes(sheets))
    return path
