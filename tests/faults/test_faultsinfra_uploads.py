"""The same file uploaded twice: the library says so and offers to keep or
replace it; uploads racing through the real web server make one entry."""

from __future__ import annotations

import threading

import pytest
from django_tenants.utils import schema_context

from knowledge.models import KnowledgeFile
from tests.knowledge.helpers import upload, wait_until_finished
from tests.support.accounts import signed_in_site
from tests.support.site import Site

pytestmark = pytest.mark.worker

POLICY = (b"# Travel policy\n\nBook trains for trips under four hours. "
          b"Flights need a manager's approval in writing.\n")


def _admin_site(web_server, result) -> Site:
    return signed_in_site(web_server, result)


def _library(result) -> list[tuple[int, str, str]]:
    with schema_context(result.client.schema_name):
        return list(KnowledgeFile.objects.filter(conversation__isnull=True)
                    .order_by("id").values_list("id", "display_name", "sha256"))


def test_concurrent_uploads_of_one_file_make_one_entry(make_client, web_server, celery_worker):
    result = make_client("dupes")
    sites = [_admin_site(web_server, result) for _ in range(6)]
    start = threading.Barrier(len(sites))
    responses: list = [None] * len(sites)

    def send(index: int) -> None:
        start.wait()
        responses[index] = upload(sites[index], f"travel-{index}.md", POLICY)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(sites))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 5, [r.text for r in responses]
    [created] = [r.json()["file"] for r in responses if r.status_code == 201]
    for refused in (r.json() for r in responses if r.status_code == 409):
        assert refused["code"] == "duplicate"
        assert refused["duplicate_of"]["id"] == created["id"]
        assert f"already in the library as “{created['name']}”" in refused["error"]
        assert "Keep the existing file, or replace it" in refused["error"]
    assert [row[0] for row in _library(result)] == [created["id"]], "one library entry"
    assert wait_until_finished(sites[0], created["id"])["status"] == "ready"


def test_a_duplicate_is_kept_or_replaces_the_existing_file(
        make_client, web_server, celery_worker):
    result = make_client("keeprep")
    site = _admin_site(web_server, result)
    first = upload(site, "travel.md", POLICY)
    assert first.status_code == 201
    original = wait_until_finished(site, first.json()["file"]["id"])
    assert original["status"] == "ready"

    again = upload(site, "travel (copy).md", POLICY)
    assert again.status_code == 409 and again.json()["duplicate_of"]["id"] == original["id"]

    kept = site.http.post("/knowledge/upload/", data={"duplicate": "keep"},
                          files={"file": ("travel (copy).md", POLICY)},
                          headers={"X-CSRFToken": site.csrf(), "Accept": "application/json"})
    assert kept.status_code == 200 and kept.json()["outcome"] == "kept"
    assert kept.json()["file"]["id"] == original["id"]
    assert [(pk, name) for pk, name, _ in _library(result)] == [(original["id"], "travel.md")]

    replaced = site.http.post("/knowledge/upload/", data={"duplicate": "replace"},
                              files={"file": ("travel-2026.md", POLICY)},
                              headers={"X-CSRFToken": site.csrf(),
                                       "Accept": "application/json"})
    assert replaced.status_code == 200 and replaced.json()["outcome"] == "replaced"
    assert replaced.json()["file"]["id"] == original["id"]
    reindexed = wait_until_finished(site, original["id"])
    assert reindexed["status"] == "ready" and reindexed["chunks"] == original["chunks"]
    assert [(pk, name) for pk, name, _ in _library(result)] == [
        (original["id"], "travel-2026.md")], "the upload took the existing entry's place"
    with schema_context(result.client.schema_name):
        assert KnowledgeFile.objects.get(pk=original["id"]).generation == 2

    wrong = site.http.post("/knowledge/upload/", data={"duplicate": "both"},
                           files={"file": ("travel.md", POLICY)},
                           headers={"X-CSRFToken": site.csrf(), "Accept": "application/json"})
    assert wrong.status_code == 400 and "keep or replace" in wrong.json()["error"]


def test_the_same_file_may_be_attached_to_conversations_and_the_library(
        make_client, web_server, celery_worker):
    result = make_client("attachdup")
    site = _admin_site(web_server, result)
    in_library = upload(site, "travel.md", POLICY)
    assert in_library.status_code == 201
    wait_until_finished(site, in_library.json()["file"]["id"])
    first = upload(site, "travel.md", POLICY, path="/knowledge/attach/")
    second = upload(site, "travel.md", POLICY, path="/knowledge/attach/")
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["conversation_id"] != second.json()["conversation_id"]
    for attached in (first.json(), second.json()):  # ingested before the client is erased
        _wait_for_attachment(site, attached["conversation_id"], attached["file"]["id"])


def _wait_for_attachment(site: Site, conversation_id: int, file_id: int) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        files = site.http.get(f"/knowledge/c/{conversation_id}/attachments/").json()["files"]
        if any(f["id"] == file_id and f["status"] in ("ready", "failed") for f in files):
            return
        time.sleep(0.2)
    raise AssertionError(f"attachment {file_id} was not processed")
