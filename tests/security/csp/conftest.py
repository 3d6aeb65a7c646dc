# The real Chromium of the e2e tests; their `page` / `open_page` fail a test on
# any Content-Security-Policy violation.
from tests.e2e.conftest import browser, open_page, page  # noqa: F401
