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
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
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


def _uv_compile(uv: Path, inputs: list[str], out: Path, previous: Path, python: str,
                extra_args: list[str]) -> str:
    if previous.exists():
        # uv keeps the versions already pinned in the output file unless told
        # to upgrade, so a new dependency does not move the others.
        out.write_bytes(previous.read_bytes())
    command = [str(uv), "pip", "compile", *inputs, "--universal", "--python-version", python,
               "--generate-hashes", "--no-header", "--quiet", "--output-file", str(out),
               *extra_args]
    subprocess.run(command, check=True, cwd=ROOT)
    return out.read_text(encoding="utf-8")


def _header(what: str) -> str:
    return (
        "# Generated by scripts/lock from pyproject.toml: do not edit by hand.\n"
        f"# {what}.\n"
        "# Each pin carries the SHA-256 of every file of its version (--require-hashes).\n"
        "# Change pyproject.toml, then run scripts/lock (--upgrade moves every pin\n"
        "# to the newest allowed).\n"
        f"{FINGERPRINT_PREFIX}{fingerprint()}\n"
    )


def compile_lock(extra_args: list[str]) -> None:
    """Regenerate both locks with uv (installed in .venv as a dev tool).

    requirements.lock: runtime, dev tools, build backend and pip (what
    scripts/bootstrap.sh installs); requirements-runtime.lock: the same
    versions of only what production runs.
    """
    uv = ROOT / ".venv" / "bin" / "uv"
    if not uv.exists():
        raise SystemExit("uv is missing from .venv: run scripts/bootstrap.sh first")
    inputs = lock_inputs()
    python = _lowest_python(inputs["requires-python"])
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build-system.in"
        build.write_text("\n".join(inputs["build-system"] + ["pip"]) + "\n", encoding="utf-8")
        extras: list[str] = []
        for extra in inputs["optional-dependencies"]:
            extras += ["--extra", extra]
        full = _uv_compile(uv, [str(PYPROJECT.name), str(build), *extras],
                           Path(tmp) / "full.lock", LOCK, python, extra_args)
        full = full.replace(f"-r {build}", "pip and pyproject.toml [build-system]")
        # The runtime lock takes the full lock's versions as constraints.
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("".join(line.split(" ")[0] + "\n" for line in full.splitlines()
                                       if _PIN.match(line)), encoding="utf-8")
        runtime = _uv_compile(uv, [str(PYPROJECT.name), str(build), "-c", str(constraints)],
                              Path(tmp) / "runtime.lock", RUNTIME_LOCK, python, [])
        runtime = runtime.replace(f"-r {build}", "pip and pyproject.toml [build-system]")
        runtime = re.sub(rf"^\s*#\s+-c {re.escape(str(constraints))}\n", "", runtime, flags=re.M)
    LOCK.write_text(_header("Every package of the project, its dev tools and its build"
                            " backend") + full, encoding="utf-8")
    RUNTIME_LOCK.write_text(_header("What production runs (no dev tools), at the versions"
                                    " of requirements.lock") + runtime, encoding="utf-8")
    print(f"{LOCK.name}: {len(pins())} packages pinned; "
          f"{RUNTIME_LOCK.name}: {len(pins(RUNTIME_LOCK))}")


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
