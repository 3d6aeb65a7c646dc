"""Knowledge files through the real web server, worker (ingest queue), Redis,
PostgreSQL (full-text and pgvector) and the local model server."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from knowledge import services, vectors
from knowledge.models import KnowledgeChunk, KnowledgeFile
from tests.knowledge.fixtures_documents import (
    DocxBlock,
    PdfPage,
    make_docx,
    make_docx_with_many_entries,
    make_docx_zip_bomb,
    make_encrypted_pdf,
    make_garbled_pdf,
    make_ole_file,
    make_pdf,
    make_scanned_like_pdf,
    make_text_pdf,
)
from tests.knowledge.helpers import (
    find,
    snapshot,
    turn_semantic_search_on,
    upload,
    wait_until_finished,
    wait_until_minilm_embedded,
)
from tests.support.accounts import PASSWORD, signed_in_site
from tests.support.factories import MemberFactory
from tests.support.site import Site

pytestmark = pytest.mark.worker


@pytest.fixture
def acme(make_client, web_server, celery_worker, model):
    result = make_client("kn")
    site = signed_in_site(web_server, result)
    return result, site


def ingest(site: Site, name: str, data: bytes) -> dict:
    response = upload(site, name, data)
    assert response.status_code == 201, response.text
    return wait_until_finished(site, response.json()["file"]["id"])


FORMATS = {
    "handbook.pdf": lambda phrase: make_pdf([
        PdfPage(lines=["Introduction to the handbook."]),
        PdfPage(lines=[f"The {phrase} lives on page two."], bookmarks=["Travel"]),
    ]),
    "policy.docx": lambda phrase: make_docx([
        DocxBlock("heading", "Expenses"), DocxBlock("paragraph", f"Remember the {phrase}.")]),
    "notes.txt": lambda phrase: f"Plain notes. The {phrase} is here.".encode(),
    "readme.md": lambda phrase: f"# Guide\n\nThe {phrase} is documented.\n".encode(),
    "prices.csv": lambda phrase: f"item,comment\nwidget,{phrase}\n".encode(),
    "page.html": lambda phrase: (
        f"<html><head><title>Intranet</title><script>var x='hidden';</script></head>"
        f"<body><h1>News</h1><p>The {phrase} was announced.</p></body></html>").encode(),
}


def test_each_format_ingests_and_is_retrievable(acme):
    result, site = acme
    finished = {}
    for number, (name, make) in enumerate(FORMATS.items()):
        phrase = f"flamingo{number} quokka{number}"
        finished[name] = (phrase, ingest(site, name, make(phrase)))

    for name, (phrase, file) in finished.items():
        assert file["status"] == "ready", (name, file["error"])
        assert file["chunks"] >= 1 and file["name"] == name and file["uploader"]
        texts = find(result.client, phrase)
        assert texts and phrase in texts[0], name
    assert finished["handbook.pdf"][1]["pages"] == 2
    with schema_context(result.client.schema_name):
        pdf_chunk = KnowledgeChunk.objects.get(text__contains="flamingo0")
        assert pdf_chunk.page == 2 and pdf_chunk.heading == "Travel"
    assert not find(result.client, "hidden"), "script text is not indexed"


BAD_FILES = [
    pytest.param("tool.exe", lambda: b"MZ\x90\x00 program", "unsupported_type", id="wrong type"),
    pytest.param("fake.pdf", lambda: b"just some text pretending", "content_mismatch",
                 id="text named pdf"),
    pytest.param("big.txt", lambda: b"a" * (25 * 1024 * 1024 + 1), "too_large", id="oversized"),
    pytest.param("bomb.docx", lambda: make_docx_zip_bomb(unpacked_bytes=200 * 1024 * 1024),
                 "archive_too_large", id="zip bomb docx"),
    pytest.param("many.docx", lambda: make_docx_with_many_entries(extra_entries=1200),
                 "too_many_entries", id="docx with too many entries"),
    pytest.param("locked.pdf", lambda: make_encrypted_pdf(user_password="s3cret"), "encrypted",
                 id="encrypted pdf"),
    pytest.param("locked.docx", lambda: make_ole_file(encrypted=True), "encrypted",
                 id="encrypted docx"),
    pytest.param("cut.pdf", lambda: make_text_pdf(page_count=2)[:-400], "truncated",
                 id="truncated pdf"),
    pytest.param("broken.pdf", make_garbled_pdf, "corrupt", id="corrupt pdf"),
    pytest.param("empty.md", lambda: b"", "empty", id="empty file"),
]


def test_bad_files_fail_with_their_reason_and_nothing_else_changes(acme):
    result, site = acme
    good = ingest(site, "good.txt", b"The walrus handbook says hello.")
    assert good["status"] == "ready"
    before = snapshot(result.client)

    for param in BAD_FILES:
        name, make, code = param.values
        response = upload(site, name, make())
        assert response.status_code == 400, (param.id, response.text)
        body = response.json()
        assert body["code"] == code, (param.id, body)
        assert body["error"].endswith(".") and len(body["error"]) > 30, body["error"]
        assert snapshot(result.client) == before, param.id

    # Problems only reading the whole file can find: stored, then failed with a reason.
    scanned = ingest(site, "scan.pdf", make_scanned_like_pdf())
    assert scanned["status"] == "failed" and scanned["error_code"] == "no_text"
    assert "no selectable text" in scanned["error"]
    after = snapshot(result.client)
    assert after["chunks"] == before["chunks"] and after["vectors"] == before["vectors"]
    assert after["stored"] == before["stored"], "a file that cannot be used is not kept"
    assert find(result.client, "walrus")


def test_reindex_is_idempotent(acme):
    result, site = acme
    file = ingest(site, "manual.pdf", make_text_pdf(page_count=3))
    with schema_context(result.client.schema_name):
        first = list(KnowledgeChunk.objects.filter(file_id=file["id"])
                     .order_by("index").values_list("index", "page", "text"))

    for _ in range(2):
        response = site.post(f"/knowledge/files/{file['id']}/reindex/")
        assert response.status_code == 200
    again = wait_until_finished(site, file["id"])
    # A re-index queued behind another still ends ready, with one set of chunks.
    assert again["status"] == "ready" and again["chunks"] == file["chunks"]
    with schema_context(result.client.schema_name):
        assert list(KnowledgeChunk.objects.filter(file_id=file["id"])
                    .order_by("index").values_list("index", "page", "text")) == first


def test_a_file_whose_ingest_was_lost_ends_failed_and_can_be_reindexed(acme):
    from django.db.models import F
    from django.utils import timezone

    result, site = acme
    lost = ingest(site, "lost.txt", b"The okapi handbook, chapter one.")
    recent = ingest(site, "recent.txt", b"Fresh notes.")
    with schema_context(result.client.schema_name):
        # What a lost task leaves behind: queued at a generation nobody will run.
        KnowledgeFile.objects.filter(pk=lost["id"]).update(
            status="queued", generation=F("generation") + 1,
            updated=timezone.now() - timezone.timedelta(hours=1))
        KnowledgeFile.objects.filter(pk=recent["id"]).update(status="processing")

        assert services.fail_stalled_files() == 1

        file = KnowledgeFile.objects.get(pk=lost["id"])
        assert file.status == "failed" and "Re-index" in file.error
        assert services.stored_path(file).exists(), "the original is kept to re-index"
        assert KnowledgeFile.objects.get(pk=recent["id"]).status == "processing"

    page = site.http.get("/knowledge/")
    assert "Processing was interrupted" in page.text
    assert site.post(f"/knowledge/files/{lost['id']}/reindex/").status_code == 200
    assert wait_until_finished(site, lost["id"])["status"] == "ready"
    assert find(result.client, "okapi")


def test_semantic_search_embeds_and_delete_removes_chunks_vectors_and_file(acme, model):
    result, site = acme
    page = site.http.get("/knowledge/")
    vectors_on = turn_semantic_search_on(site, result.client)
    if vectors_on:  # the switch, where there is one, says what enabling it sends
        assert "sends the text of your documents to the embeddings API" in page.text
    file = ingest(site, "atlas.md", b"# Atlas\n\nThe pelican migration route crosses the bay.")
    if not vectors_on:  # no pgvector on this server: full-text only, nothing embedded
        assert file["status"] == "ready" and file["embedded_chunks"] == 0
        assert model.requests("/v1/embeddings") == []
        assert find(result.client, "pelican")
        return
    assert file["status"] == "ready" and file["embedded_chunks"] == file["chunks"] >= 1
    sent = [text for r in model.requests("/v1/embeddings") for text in r["body"]["input"]]
    assert any("pelican migration route" in text for text in sent)
    with schema_context(result.client.schema_name):
        stored = services.stored_path(KnowledgeFile.objects.get(pk=file["id"]))
        assert stored.exists()
        assert vectors.count(file_id=file["id"]) == file["chunks"]

    response = site.post(f"/knowledge/files/{file['id']}/delete/")
    assert response.status_code == 200

    with schema_context(result.client.schema_name):
        assert not KnowledgeFile.objects.filter(pk=file["id"]).exists()
        assert not KnowledgeChunk.objects.filter(file_id=file["id"]).exists()
        assert vectors.count() == 0
    assert not stored.exists()
    assert not find(result.client, "pelican")


def test_the_page_shows_minilm_progress_until_it_is_complete(acme):
    """Ready with WordLlama's vectors while the background task adds MiniLM's
    (the default local model): the page and its status JSON say how far it
    is, and the line goes once every passage has its MiniLM vector."""
    result, site = acme
    file = ingest(site, "otters.md", b"# Otters\n\nOtters hold hands while sleeping.")
    assert file["status"] == "ready"
    wait_until_minilm_embedded(site, file["id"])  # the worker is done: the counts below stay
    line = "Improving semantic search: 120 of 400 passages"
    with schema_context(result.client.schema_name):
        KnowledgeFile.objects.filter(pk=file["id"]).update(chunk_count=400, minilm_chunks=120)
    page = site.http.get("/knowledge/")
    assert line in page.text and 'class="muted note kfile-minilm"' in page.text
    status = site.http.get("/knowledge/status/").json()
    assert status["minilm_in_use"] is True
    [row] = [f for f in status["files"] if f["id"] == file["id"]]
    assert (row["minilm_chunks"], row["chunks"]) == (120, 400)

    with schema_context(result.client.schema_name):
        KnowledgeFile.objects.filter(pk=file["id"]).update(minilm_chunks=400)
    page = site.http.get("/knowledge/")
    assert "Improving semantic search" not in page.text and "kfile-minilm" not in page.text


def test_turning_semantic_search_off_deletes_every_vector(acme):
    result, site = acme
    if not turn_semantic_search_on(site, result.client):
        return  # no pgvector on this server: there are no vectors to delete
    ingest(site, "a.txt", b"Otters hold hands while sleeping.")
    with schema_context(result.client.schema_name):
        assert vectors.count() >= 1
    site.post("/knowledge/settings/", {})
    with schema_context(result.client.schema_name):
        assert vectors.count() == 0


def test_only_tenant_admins_manage_the_library(acme, make_client):
    result, site = acme
    with schema_context(result.client.schema_name):

        MemberFactory(email="emp@example.com")
    employee = Site(str(site.http.base_url).replace("127.0.0.1", result.domain.domain))
    employee.http.headers["Host"] = site.http.headers["Host"]
    employee.http.base_url = site.http.base_url
    employee.login("emp@example.com", PASSWORD)
    assert employee.http.get("/knowledge/").status_code == 403
    assert upload(employee, "x.txt", b"hello there").status_code == 403
