"""Errors that point a user at the exact place in their input that is wrong.

Every check on user input raises (or collects) :class:`InputError`, which carries the
file, the line number as the user sees it in a text editor (header = line 1), the
column, the offending value and what was expected. Several problems found in one pass
are raised together as :class:`InputErrors`, so a user fixes a sheet once rather than
once per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True)
class InputError:
    """One problem in one place of a user's input.

    Parameters
    ----------
    message
        What is wrong, in a sentence.
    file
        Path of the offending file, or ``None`` for the config itself.
    row
        1-based line number in the file as shown by an editor (the header is line 1), or
        the row number a spreadsheet shows.
    column
        Column (or config key) holding the bad value.
    value
        The offending value as written by the user.
    expected
        What would have been accepted.
    """

    message: str
    file: str | Path | None = None
    row: int | None = None
    column: str | None = None
    value: object = None
    expected: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        # A spreadsheet (fibroskin.io.spreadsheet.SheetSource) numbers rows and letters columns.
        if self.row is not None:
            where.append(f"{getattr(self.file, 'row_word', 'line')} {self.row}")
        if self.column is not None:
            label = getattr(self.file, "column_label", None)
            where.append("column " + (label(self.column) if label else f"'{self.column}'"))
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.value is not None:
            text += f" (found: {self.value!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


class InputErrors(ValueError):
    """All problems found in the input, reported together."""

    def __init__(self, errors: Iterable[InputError]):
        self.errors = list(errors)
        super().__init__(self.format())

    def format(self) -> str:
        n = len(self.errors)
        head = f"fibroskin found {n} problem{'s' if n != 1 else ''} in the input:"
        return "\n".join([head] + [f"  - {error}" for error in self.errors])

    def __str__(self) -> str:
        return self.format()


class ErrorCollector:
    """Collects :class:`InputError` objects and raises them together.

    Examples
    --------
    >>> errors = ErrorCollector()
    >>> errors.add("sample IDs must be unique", file="samples.tsv", row=3, column="sample")
    >>> errors.raise_if_any()  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    InputErrors: ...
    """

    def __init__(self) -> None:
        self.errors: list[InputError] = []

    def add(self, message: str, **where: object) -> None:
        self.errors.append(InputError(message, **where))  # type: ignore[arg-type]

    def extend(self, errors: Iterable[InputError]) -> None:
        self.errors.extend(errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InputErrors(self.errors)
