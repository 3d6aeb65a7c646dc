"""Spreadsheet-safe CSV: the one writer every CSV download uses.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read
as a formula by Excel, LibreOffice and Google Sheets (OWASP "CSV injection"):
a member's e-mail or a model id such as `=HYPERLINK(...)` would run when an
admin opens the export. Such text cells get a leading apostrophe, which
spreadsheets show as plain text; numbers, dates and empty cells are left as
they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet shows it as text, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(*, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text, one line at a time, every cell neutralised."""
    writer = csv.writer(_Echo())
    yield writer.writerow([safe_cell(value) for value in header])
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_download(*, filename: str, header: Iterable[Any],
                 rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    """A streamed CSV attachment (rows are read lazily, so a large export
    never sits in memory)."""
    response = StreamingHttpResponse(csv_lines(header=header, rows=rows),
                                     content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
