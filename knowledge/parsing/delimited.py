"""CSV (and other delimited tables): one "column: value" line per row."""

from __future__ import annotations

import csv
import io
from typing import Any

from knowledge.parsing.base import (
    Limits,
    Section,
    SectionBuilder,
    corrupt,
    normalise_inline,
    require_text,
)


def extract(text: str, *, limits: Limits) -> list[Section]:
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    builder = SectionBuilder(limits=limits, page=None)
    try:
        rows = csv.reader(io.StringIO(text, newline=""), dialect)
        header = [normalise_inline(cell) for cell in next(rows, [])]
        for row in rows:
            cells = [normalise_inline(cell) for cell in row]
            if not any(cells):
                continue
            if len(cells) <= len(header) and any(header):
                # "Column: value" keeps each row meaningful after chunking cuts
                # it away from the header line.
                line = "; ".join(
                    f"{name}: {value}" if name else value
                    for name, value in zip(header, cells, strict=False)
                    if value
                )
            else:
                line = " | ".join(cells)
            # Blank line between rows: the chunker prefers to cut there.
            builder.add(line + "\n\n")
        if not builder.has_text() and any(header):
            builder.add(" | ".join(header))
    except csv.Error as error:
        raise corrupt("CSV") from error
    return require_text(builder.finish(), what="CSV file")
