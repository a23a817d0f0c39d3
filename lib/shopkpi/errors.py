"""Errors a user can act on: each names the file, row and column where known."""

from __future__ import annotations


class ShopkpiError(Exception):
    """Base class for errors shown to analysts without a traceback."""


class ParamsError(ShopkpiError):
    """A client's params file or a run parameter is invalid."""


class InputFileError(ShopkpiError):
    """An input file cannot be read; names the file and, where known, row and column."""

    def __init__(self, path, message: str, *, row: int | None = None, column: str | None = None):
        self.path, self.row, self.column = str(path), row, column
        where = self.path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


class NoDataError(ShopkpiError):
    """The store holds no data for what was asked (e.g. ingest has not run)."""
