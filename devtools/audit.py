"""Known vulnerabilities in the locked packages (scripts/audit, run by scripts/test).

Runs pip-audit on requirements.lock (the exact pins, no resolution) and fails
when a package has a known vulnerability that a newer version fixes, unless
pip-audit-ignore.toml lists it with a reason. A vulnerability with no fixed
version yet is shown but does not fail (there is nothing to move to).

pip-audit counts a package it could not look up as "skipped", not as a
failure, and still prints "No known vulnerabilities found". This script says
plainly how many packages were really checked; when none were (the
vulnerability service is out of reach, as on a machine that reaches only the
package registry's file mirror), it prints NOT AUDITED and fails only when
AUDIT_REQUIRED=true.

    python -m devtools.audit [--report pip-audit.json] [pip-audit options]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
IGNORE_FILE = ROOT / "pip-audit-ignore.toml"


class IgnoreFileError(ValueError):
    pass


@dataclass(frozen=True)
class Ignore:
    id: str
    reason: str
    until: dt.date | None = None


@dataclass
class Finding:
    package: str
    version: str
    id: str
    aliases: list[str]
    fix_versions: list[str]


@dataclass
class Outcome:
    audited: int = 0
    skipped: list[str] = field(default_factory=list)
    failing: list[Finding] = field(default_factory=list)  # fixable, not ignored
    unfixed: list[Finding] = field(default_factory=list)  # no fixed version yet
    ignored: list[tuple[Finding, Ignore]] = field(default_factory=list)
    expired: list[Ignore] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failing and not self.expired


def load_ignores(text: str) -> list[Ignore]:
    """Entries of pip-audit-ignore.toml: [[ignore]] id, reason (required), until (optional)."""
    data = tomllib.loads(text)
    entries = []
    for number, raw in enumerate(data.get("ignore", []), start=1):
        vuln_id = str(raw.get("id", "")).strip()
        reason = str(raw.get("reason", "")).strip()
        if not vuln_id:
            raise IgnoreFileError(f"entry {number}: no id")
        if len(reason) < 10:
            raise IgnoreFileError(f"entry {number} ({vuln_id}): a reason is required")
        until = raw.get("until")
        if until is not None and not isinstance(until, dt.date):
            raise IgnoreFileError(f"entry {number} ({vuln_id}): until must be a date (2027-01-31)")
        entries.append(Ignore(vuln_id, reason, until))
    return entries


def evaluate(report: dict, ignores: list[Ignore], today: dt.date | None = None) -> Outcome:
    """Judge a pip-audit JSON report (`pip-audit -f json`)."""
    today = today or dt.date.today()
    active = {}
    outcome = Outcome()
    for entry in ignores:
        if entry.until is not None and entry.until < today:
            outcome.expired.append(entry)
        else:
            active[entry.id.upper()] = entry
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            outcome.skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        outcome.audited += 1
        for vuln in dep.get("vulns", []):
            finding = Finding(dep["name"], dep.get("version", "?"), vuln["id"],
                              list(vuln.get("aliases", [])), list(vuln.get("fix_versions", [])))
            names = [finding.id, *finding.aliases]
            match = next((active[n.upper()] for n in names if n.upper() in active), None)
            if match is not None:
                outcome.ignored.append((finding, match))
            elif finding.fix_versions:
                outcome.failing.append(finding)
            else:
                outcome.unfixed.append(finding)
    return outcome


def describe(outcome: Outcome, total: int) -> list[str]:
    lines = []
    for f in outcome.failing:
        aliases = ", ".join(f.aliases) or "no aliases"
        lines.append(f"VULNERABLE {f.package} {f.version}: {f.id} ({aliases}), "
                     f"fixed in {', '.join(f.fix_versions)}")
    for f in outcome.unfixed:
        lines.append(f"known, no fix yet: {f.package} {f.version}: {f.id}")
    for f, entry in outcome.ignored:
        lines.append(f"ignored {f.package} {f.version}: {f.id}: {entry.reason}")
    for entry in outcome.expired:
        lines.append(f"EXPIRED ignore entry {entry.id} (until {entry.until}): review it")
    if outcome.skipped and outcome.audited:
        lines.append(f"not looked up ({len(outcome.skipped)}):")
        lines += [f"  {s}" for s in outcome.skipped]
    if outcome.audited == 0:
        lines.append(f"NOT AUDITED: none of the {total} locked packages could be looked up "
                     f"(the vulnerability service is out of reach from this machine); "
                     f"first reason: {outcome.skipped[0] if outcome.skipped else 'none'}")
    else:
        lines.append(f"{outcome.audited} of {total} locked packages audited: "
                     f"{len(outcome.failing)} fixable vulnerabilities, {len(outcome.unfixed)} "
                     f"without a fix, {len(outcome.ignored)} ignored with a reason")
    return lines


def run_pip_audit(extra: list[str]) -> dict:
    pip_audit = ROOT / ".venv" / "bin" / "pip-audit"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        # --disable-pip: the lock is complete and hashed, so nothing is resolved
        # or installed; the pins are looked up as they are.
        command = [str(pip_audit), "--disable-pip", "-r", str(LOCK), "--format", "json",
                   "--output", str(out), "--progress-spinner", "off", *extra]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if not out.exists():
            sys.stderr.write(result.stderr[-4000:])
            raise SystemExit(f"pip-audit did not run (exit {result.returncode})")
        return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    report_path = None
    if argv[:1] == ["--report"]:
        report_path, argv = Path(argv[1]), argv[2:]
    try:
        ignores = load_ignores(IGNORE_FILE.read_text(encoding="utf-8")
                               if IGNORE_FILE.exists() else "")
    except (IgnoreFileError, tomllib.TOMLDecodeError) as exc:
        print(f"{IGNORE_FILE.name}: {exc}", file=sys.stderr)
        return 1
    report = (json.loads(report_path.read_text(encoding="utf-8")) if report_path
              else run_pip_audit(argv))
    outcome = evaluate(report, ignores)
    total = len(report.get("dependencies", []))
    for line in describe(outcome, total):
        print(line)
    if not outcome.ok:
        return 1
    if outcome.audited == 0 and os.environ.get("AUDIT_REQUIRED", "").lower() == "true":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
