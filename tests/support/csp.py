"""Content-Security-Policy violations seen by a real browser fail the test.

`CspWatch.watch(context)` records every violation in a Playwright browser
context two ways: the page's `securitypolicyviolation` events (reported to
Python through an exposed binding, which survives navigations) and Chromium's
console messages about the policy (which also cover violations no event is
fired for, such as a header the browser rejects). The e2e `page` and
`open_page` fixtures call `check()` at teardown.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

BINDING = "__reportCspViolation"
RECORDER = f"""
document.addEventListener("securitypolicyviolation", (e) => {{
  window.{BINDING}({{
    page: document.location.href, directive: e.effectiveDirective || e.violatedDirective,
    blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample,
  }});
}}, true);
"""
CONSOLE_MARKERS = ("Content Security Policy", "Content-Security-Policy")


@dataclass
class CspWatch:
    violations: list[str] = field(default_factory=list)
    contexts: list = field(default_factory=list)

    def watch(self, context) -> None:
        context.expose_binding(BINDING, lambda _source, report: self.violations.append(
            "securitypolicyviolation: {directive} blocked {blocked!r} on {page} "
            "({source}:{line}) {sample!r}".format(**report)))
        context.add_init_script(script=RECORDER)
        context.on("console", self._on_console)
        self.contexts.append(context)

    def _on_console(self, message) -> None:
        if any(marker in message.text for marker in CONSOLE_MARKERS):
            self.violations.append(f"console {message.type}: {message.text} ({message.location})")

    def flush(self) -> None:
        """One round trip per open page, so reports already sent are delivered."""
        for context in self.contexts:
            for page in context.pages:
                # A closed or navigating page has nothing left to report.
                with contextlib.suppress(Exception):
                    page.evaluate("0")

    def check(self) -> None:
        self.flush()
        if self.violations:
            found = "\n  ".join(dict.fromkeys(self.violations))
            raise AssertionError(f"Content-Security-Policy violations in the browser:\n  {found}")
