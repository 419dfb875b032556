"""Typed errors for data problems, each naming the file, the line or row, and the field."""

from __future__ import annotations

from pathlib import Path


class DataError(Exception):
    """Base class: something is wrong with a data file or its source."""


class DataFormatError(DataError, ValueError):
    """A file does not have the expected format.

    ``file``, ``line`` (1-based line of the file, or None), ``field`` (column or attribute, or
    None) and ``fix`` (what to do) are attributes and appear in the message.
    """

    def __init__(self, file: str | Path, problem: str, line: int | None = None,
                 field: str | None = None, fix: str | None = None):
        self.file, self.line, self.field, self.problem, self.fix = str(file), line, field, problem, fix
        where = self.file + (f", line {line}" if line is not None else "")
        what = f"field {field!r}: " if field else ""
        super().__init__(f"{where}: {what}{problem}" + (f" ({fix})" if fix else ""))


class ChecksumError(DataError):
    """A downloaded or given file does not have the registered sha256."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data set is not on disk and cannot be fetched; the message says how to get it."""
