# The real Chromium of the e2e tests (Debian's, with their launch arguments).
from tests.e2e.conftest import browser, open_page, page  # noqa: F401
