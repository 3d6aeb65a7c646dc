"""The hashed lock file (requirements.lock): make it, tell whether it is stale.

pyproject.toml keeps the ranges; requirements.lock pins every package the
project, its dev tools and its build backend need, each with the SHA-256 of
every file the registry has for that version, so `pip install
--require-hashes` refuses anything else. The lock's first lines record a
fingerprint of what it was made from (requires-python, dependencies, optional
dependencies, build-system requires); a lock whose fingerprint differs from
pyproject.toml's is stale.

Standard library only: scripts/bootstrap.sh runs it before anything is
installed. Usage (from the repository root):

    python devtools/lockfile.py compile [uv options]   # scripts/lock
    python devtools/lockfile.py check [PYPROJECT LOCK]  # exit 1 when stale
    python devtools/lockfile.py block NAME              # one pinned requirement
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
FINGERPRINT_PREFIX = "# pyproject-sha256: "

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_inputs(pyproject: Path = PYPROJECT) -> dict:
    """What the lock is made from: everything in pyproject.toml that changes it."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data["project"]
    return {
        "requires-python": project.get("requires-python", ""),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-system": data.get("build-system", {}).get("requires", []),
    }


def fingerprint(pyproject: Path = PYPROJECT) -> str:
    text = json.dumps(lock_inputs(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_fingerprint(lock: Path = LOCK) -> str | None:
    if not lock.exists():
        return None
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith(FINGERPRINT_PREFIX):
            return line[len(FINGERPRINT_PREFIX):].strip()
        if line and not line.startswith("#"):
            break
    return None


def is_fresh(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> bool:
    return recorded_fingerprint(lock) == fingerprint(pyproject)


def pins(lock: Path = LOCK) -> dict[str, set[str]]:
    """{canonical name: versions} of every pinned requirement in the lock (a
    package may be pinned twice, for different Pythons or platforms, under
    markers)."""
    found: dict[str, set[str]] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            found.setdefault(canonical(match.group(1)), set()).add(match.group(2))
    return found


def unhashed(lock: Path = LOCK) -> list[str]:
    """Pinned requirements of the lock that carry no --hash (pip would refuse the lock)."""
    missing, current, hashed = [], None, True
    for line in lock.read_text(encoding="utf-8").splitlines() + ["end"]:
        if _PIN.match(line) or (line and not line.startswith((" ", "#"))):
            if current and not hashed:
                missing.append(current)
            current, hashed = line.split(" ")[0], False
        elif "--hash=sha256:" in line:
            hashed = True
    return missing


def block(name: str, lock: Path = LOCK) -> str:
    """The lines of one pinned requirement (with its hashes), for installing it alone."""
    wanted = canonical(name)
    out: list[str] = []
    taking = False
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            taking = canonical(match.group(1)) == wanted
        elif line and not line.startswith((" ", "\t")):
            taking = False
        if taking and not line.lstrip().startswith("#"):
            out.append(line)
    if not out:
        raise SystemExit(f"{name} is not pinned in {lock.name}")
    return "\n".join(out).rstrip(" \\") + "\n"


def _lowest_python(requires: str) -> str:
    match = re.search(r">=\s*(\d+\.\d+)", requires)
    return match.group(1) if match else f"{sys.version_info[0]}.{sys.version_info[1]}"


def compile_lock(extra_args: list[str]) -> None:
    """Regenerate requirements.lock with uv (installed in .venv as a dev tool)."""
    uv = ROOT / ".venv" / "bin" / "uv"
    if not uv.exists():
        raise SystemExit("uv is missing from .venv: run scripts/bootstrap.sh first")
    inputs = lock_inputs()
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build-system.in"
        build.write_text("\n".join(inputs["build-system"] + ["pip"]) + "\n", encoding="utf-8")
        out = Path(tmp) / "requirements.lock"
        if LOCK.exists():
            # uv keeps the versions already pinned in the output file unless
            # told to upgrade, so a new dependency does not move the others.
            out.write_bytes(LOCK.read_bytes())
        extras: list[str] = []
        for extra in inputs["optional-dependencies"]:
            extras += ["--extra", extra]
        command = [
            str(uv), "pip", "compile", str(PYPROJECT), str(build), *extras,
            "--universal", "--python-version", _lowest_python(inputs["requires-python"]),
            "--generate-hashes", "--no-header", "--quiet",
            "--output-file", str(out), *extra_args,
        ]
        env = dict(os.environ)
        env.pop("UV_INDEX_URL", None)  # the public registry only, never a private index
        subprocess.run(command, check=True, cwd=ROOT, env=env)
        body = out.read_text(encoding="utf-8").replace(
            f"-r {build}", "pip and pyproject.toml [build-system]")
    header = (
        "# Generated by scripts/lock from pyproject.toml: do not edit by hand.\n"
        "# Every package with the SHA-256 of each of its files; scripts/bootstrap.sh\n"
        "# installs it with pip --require-hashes. Change pyproject.toml, then run\n"
        "# scripts/lock (scripts/lock --upgrade moves every pin to the newest allowed).\n"
        f"{FINGERPRINT_PREFIX}{fingerprint()}\n"
    )
    LOCK.write_text(header + body, encoding="utf-8")
    print(f"{LOCK.name}: {len(pins())} packages pinned")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    verb, rest = argv[0], argv[1:]
    if verb == "compile":
        compile_lock(rest)
        return 0
    if verb == "check" and len(rest) in (0, 2):
        pyproject, lock = (Path(rest[0]), Path(rest[1])) if rest else (PYPROJECT, LOCK)
        if is_fresh(pyproject, lock):
            return 0
        why = "is missing" if not lock.exists() else "does not match pyproject.toml's dependencies"
        print(f"requirements.lock {why}: run scripts/lock", file=sys.stderr)
        return 1
    if verb == "block" and len(rest) == 1:
        sys.stdout.write(block(rest[0]))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
