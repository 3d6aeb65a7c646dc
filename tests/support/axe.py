"""axe-core (the npm package, installed by scripts/test in tests/browser/axe)
run inside a real page.

The library is evaluated through Playwright (the DevTools protocol), not added
as a <script> element: the pages' Content-Security-Policy allows no inline
script, and the CSP watch of the e2e fixtures stays on while axe runs.
"""

from __future__ import annotations

import functools
from pathlib import Path

AXE_JS = (Path(__file__).resolve().parents[1] / "browser" / "axe" / "node_modules"
          / "axe-core" / "axe.min.js")
BLOCKING = ("serious", "critical")


@functools.cache
def axe_source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: scripts/test installs it (npm ci in "
                             "tests/browser/axe)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """All of axe's violations on the page as it is now (WCAG 2.x A/AA and best practice)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;0")
    return page.evaluate("""async () => {
      const result = await window.axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                        'wcag22aa', 'best-practice']},
        resultTypes: ['violations'],
      });
      return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target.join(' '),
                                                summary: n.failureSummary})),
      }));
    }""")


def describe(name: str, violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{name}: [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"    {n['target']}: {(n['summary'] or '').splitlines()[-1:]}"
                     for n in v["nodes"])
    return "\n".join(lines)


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]
