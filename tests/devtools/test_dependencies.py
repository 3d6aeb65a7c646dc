"""The supply chain: every runtime dependency is written up in
docs/dependencies.md, the product imports nothing it does not declare, the
hashed lock matches pyproject.toml, and the audit fails on a fixable known
vulnerability unless it is ignored with a reason."""

from __future__ import annotations

import ast
import datetime as dt
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement

from devtools import audit, lockfile
from tests.conftest import ROOT

DOC = ROOT / "docs" / "dependencies.md"
# Product code: everything that runs in production or starts it (devtools too).
NOT_PRODUCT = {"tests", "bench", "docs", "locale", "static", "templates", "media", "node_modules"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in _pyproject()["project"]["dependencies"]]


def _documented_rows() -> dict[str, list[str]]:
    """{canonical name: [why, licence, publisher]} from the runtime tables of the doc."""
    text = DOC.read_text(encoding="utf-8")
    runtime = text.split("## Runtime dependencies", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in runtime.splitlines():
        match = re.match(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            rows[lockfile.canonical(match.group(1))] = cells
    return rows


def test_every_runtime_dependency_is_written_up_and_nothing_else():
    declared = {lockfile.canonical(r.name) for r in _runtime_requirements()}
    rows = _documented_rows()
    missing = sorted(declared - set(rows))
    stale = sorted(set(rows) - declared)
    assert not missing, f"runtime dependencies with no row in docs/dependencies.md: {missing}"
    assert not stale, f"rows in docs/dependencies.md that pyproject.toml no longer has: {stale}"
    for name, cells in rows.items():
        assert len(cells) == 3 and all(len(cell) >= 2 for cell in cells), (
            f"{name}: a row needs why it is there, its licence and its publisher: {cells}")


def _third_party_imports() -> dict[str, set[str]]:
    """{top-level module: files} for every absolute import in the product code."""
    local = {p.name for p in ROOT.iterdir() if p.is_dir()} | {p.stem for p in ROOT.glob("*.py")}
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or parts[0] in NOT_PRODUCT or "node_modules" in parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_product_imports_only_declared_runtime_dependencies():
    declared = {lockfile.canonical(r.name) for r in _runtime_requirements()}
    owners = metadata.packages_distributions()
    undeclared = {}
    for module, files in _third_party_imports().items():
        dists = {lockfile.canonical(d) for d in owners.get(module, [])}
        if not dists & declared:
            undeclared[module] = sorted(files)[:3]
    assert not undeclared, (
        "imported by the product but not a runtime dependency in pyproject.toml "
        f"(add it with a reason, and a row in docs/dependencies.md): {undeclared}")


def test_the_lock_matches_pyproject_and_pins_everything_with_hashes():
    assert lockfile.is_fresh(), "requirements.lock is older than pyproject.toml: run scripts/lock"
    pins = lockfile.pins()
    data = _pyproject()
    wanted = [Requirement(r) for r in data["project"]["dependencies"]]
    for extra in data["project"].get("optional-dependencies", {}).values():
        wanted += [Requirement(r) for r in extra]
    wanted += [Requirement(r) for r in data["build-system"]["requires"]]
    for requirement in wanted:
        versions = pins.get(lockfile.canonical(requirement.name))
        assert versions, f"{requirement.name} is not pinned in requirements.lock"
        assert any(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            f"requirements.lock pins {requirement.name} {versions}, "
            f"outside {requirement.specifier}")
    assert lockfile.unhashed() == []
    # What the lock pins is what this virtualenv runs (scripts/bootstrap.sh syncs it).
    for name in ("django", "openai", "cryptography", "uv", "pip-audit"):
        assert metadata.version(name) in pins[name]


def test_the_runtime_lock_is_the_full_lock_without_the_dev_tools():
    runtime, full = lockfile.pins(lockfile.RUNTIME_LOCK), lockfile.pins()
    assert lockfile.is_fresh(lock=lockfile.RUNTIME_LOCK), "run scripts/lock"
    assert lockfile.unhashed(lockfile.RUNTIME_LOCK) == []
    assert {name: versions for name, versions in runtime.items() if full.get(name) != versions} \
        == {}, "requirements-runtime.lock must pin the versions of requirements.lock"
    for requirement in _runtime_requirements():
        assert lockfile.canonical(requirement.name) in runtime
    dev_only = {"pytest", "playwright", "ruff", "mypy", "uv", "pip-audit", "faker"}
    assert dev_only & set(runtime) == set()


def test_a_dependency_added_to_pyproject_makes_the_lock_stale(tmp_path):
    pyproject, lock = tmp_path / "pyproject.toml", tmp_path / "requirements.lock"
    shutil.copy(ROOT / "pyproject.toml", pyproject)
    shutil.copy(ROOT / "requirements.lock", lock)
    assert lockfile.is_fresh(pyproject, lock)
    text = pyproject.read_text(encoding="utf-8")
    # A comment or a tool setting does not change what is locked.
    pyproject.write_text(text.replace("[tool.ruff]", "# a note\n[tool.ruff]"), encoding="utf-8")
    assert lockfile.is_fresh(pyproject, lock)
    pyproject.write_text(text.replace('"Django>=5.2,<5.3",', '"Django>=5.2,<5.3",\n    "six>=1",'),
                         encoding="utf-8")
    assert not lockfile.is_fresh(pyproject, lock)
    # The check bootstrap.sh and CI run says so, with what to do.
    check = [sys.executable, str(ROOT / "devtools" / "lockfile.py"), "check"]
    stale = subprocess.run([*check, str(pyproject), str(lock)], capture_output=True, text=True)
    assert stale.returncode == 1 and "run scripts/lock" in stale.stderr
    fresh = subprocess.run(check, cwd=ROOT, capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr


def test_block_gives_one_requirement_with_its_hashes():
    text = lockfile.block("uv")
    assert text.startswith("uv==") and "--hash=sha256:" in text
    assert "pip-audit" not in text and "# via" not in text


# --- the audit's verdict, on reports shaped as pip-audit 2.x writes them ----

def _report(*deps):
    return {"dependencies": list(deps), "fixes": []}


FIXABLE = {"name": "django", "version": "5.2.1", "vulns": [
    {"id": "PYSEC-2025-47", "fix_versions": ["5.2.2"], "aliases": ["CVE-2025-48432"],
     "description": "log injection"}]}
UNFIXED = {"name": "nh3", "version": "0.3.0", "vulns": [
    {"id": "GHSA-aaaa-bbbb-cccc", "fix_versions": [], "aliases": [], "description": "x"}]}


def test_a_fixable_known_vulnerability_fails_the_audit():
    outcome = audit.evaluate(_report(FIXABLE, {"name": "six", "version": "1.17.0", "vulns": []}),
                             [])
    assert not outcome.ok and outcome.audited == 2
    assert "VULNERABLE django 5.2.1: PYSEC-2025-47" in "\n".join(audit.describe(outcome, 2))


def test_a_vulnerability_without_a_fix_is_shown_but_does_not_fail():
    outcome = audit.evaluate(_report(UNFIXED), [])
    assert outcome.ok and [f.id for f in outcome.unfixed] == ["GHSA-aaaa-bbbb-cccc"]


def test_an_ignore_entry_needs_a_reason_and_matches_any_alias():
    with pytest.raises(audit.IgnoreFileError, match="reason"):
        audit.load_ignores('[[ignore]]\nid = "CVE-2025-48432"\n')
    ignores = audit.load_ignores(
        '[[ignore]]\nid = "CVE-2025-48432"\n'
        'reason = "We never log the affected request attribute."\nuntil = 2027-01-31\n')
    outcome = audit.evaluate(_report(FIXABLE), ignores, today=dt.date(2026, 12, 1))
    assert outcome.ok and len(outcome.ignored) == 1
    # After its date the entry no longer hides anything: it fails until reviewed.
    later = audit.evaluate(_report(FIXABLE), ignores, today=dt.date(2027, 2, 1))
    assert not later.ok and later.expired and later.failing


def test_nothing_looked_up_is_reported_as_not_audited():
    skipped = {"name": "amqp", "skip_reason": "Dependency not found on PyPI and could not be "
                                              "audited: amqp (5.4.2)"}
    outcome = audit.evaluate(_report(skipped), [])
    assert outcome.audited == 0
    assert audit.describe(outcome, 1)[-1].startswith("NOT AUDITED")


def test_the_ignore_file_in_the_repository_is_valid():
    for entry in audit.load_ignores(audit.IGNORE_FILE.read_text(encoding="utf-8")):
        assert entry.reason
