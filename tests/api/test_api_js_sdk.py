"""The official npm `openai` package as a client (installed by scripts/test):
models, a whole answer, a streamed one, and the errors it raises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.test_api_sdk import _token

pytestmark = pytest.mark.worker
JS = Path(__file__).parent / "js"


def test_the_javascript_sdk_talks_to_the_assistant(make_client, web_server, celery_worker,
                                                   model):
    if shutil.which("node") is None or not (JS / "node_modules" / "openai").exists():
        pytest.fail("node and tests/api/js/node_modules are needed: run scripts/test")
    client = make_client("api-js")
    env = {**os.environ, "BASE_URL": f"{web_server.url(client.domain.domain)}/v1",
           "TOKEN": _token(client), "BAD_TOKEN": "tuneai_pat_not-a-token", "MODEL": "assistant"}

    done = subprocess.run(["node", "client.mjs"], cwd=JS, env=env, capture_output=True,
                          text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["models"] == ["assistant"]
    assert seen["text"] == "You said: Hello from JavaScript"
    assert seen["usage"]["total_tokens"] > 0
    assert seen["streamed"] == "You said: Stream from JavaScript"
    assert seen["chunks"] >= 1
    assert seen["bad_token"] == {"class": "AuthenticationError", "status": 401, "param": None}
    assert seen["tools"] == {"class": "BadRequestError", "status": 400, "param": "tools"}
