"""Knowledge benchmarks, printed as tables.

0. Retrieval quality (`--quality`, the default part; run it on every change to
   retrieval): the labelled corpus of bench/knowledge_corpus.py (15 policy
   documents in Markdown, plain text, Word, PDF and HTML; questions in the
   documents' words, paraphrased, and short) is uploaded and ingested with the
   product's code, then every question is asked of the product's retrieval and
   of the baseline (the full-text query this project shipped before issue 16,
   run on the same chunks). Per phrasing: hit@1 (the first passage answers),
   recall@5 (a passage among the first five answers), MRR, and cited-file
   precision (share of the cited files that hold the answer); plus how often a
   question the documents do not cover gets no citation at all.
   The product rows: hybrid with WordLlama vectors only (what a file has as
   soon as it is ready), and hybrid with the multilingual model's vectors
   (after the background task: the corpus's vectors are computed in this
   process with the task's code). Then the cross-language questions of
   bench/knowledge_corpus_cross.py whose answer is only in this corpus.
1. Time for a generated 100-page PDF to become ready (validate, store, extract,
   chunk, full-text index, WordLlama embeddings; the ingest task's code, run in
   this process), then the background task's multilingual vectors for it, and
   the sum (fully embedded).
2. Retrieval latency p50/p95 with N chunks (default 100,000) in one client:
   full-text only, and hybrid with local vectors (full-text + the question's
   local embedding + pgvector HNSW, fused), with WordLlama and with the
   multilingual model. The chunks' WordLlama vectors are computed; their
   multilingual vectors are SYNTHETIC (random unit vectors of its 512
   dimensions: computing 100,000 would take too long on 2 cores), while each
   question's embedding is real. The embeddings API option adds the API's own
   network time.

Runs against an isolated data dir (.data/bench) unless DATABASE_URL is set.
The machine is shared: read latencies as upper bounds, and run it twice to
see the spread.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import percentile, start_django  # noqa: E402

start_django()  # embedded PostgreSQL/Redis where no URL is set

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from bench import knowledge_corpus as corpus  # noqa: E402
from bench import knowledge_corpus_cross, knowledge_corpus_ja, knowledge_corpus_ko  # noqa: E402
from knowledge import local_embeddings, multilingual, retrieval, services, vectors  # noqa: E402
from knowledge.models import KnowledgeFile, KnowledgeSettings  # noqa: E402
from tenants import services as tenant_services  # noqa: E402
from tenants.models import Client  # noqa: E402
from tests.knowledge.fixtures_documents import make_text_pdf  # noqa: E402

PREFIX = "bench-kn"


def vocabulary(size: int, rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ra", "ten", "vo", "sun", "del", "pri", "mar", "zo", "qua",
                 "bel", "nor", "tis", "gan", "fle", "rou", "pin", "dak"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def pdf_ready_seconds(pages: int) -> tuple[float, float, int]:
    """(seconds to ready, seconds of the multilingual-vector task after it, chunks)."""
    pdf = make_text_pdf(page_count=pages)
    started = time.perf_counter()
    file = services.upload(user=None, name="hundred-pages.pdf", data=pdf)
    services.ingest(file_id=file.pk, generation=file.generation)
    elapsed = time.perf_counter() - started
    file.refresh_from_db()
    assert file.status == KnowledgeFile.Status.READY, file.error
    started = time.perf_counter()
    embedded = services.embed_file_minilm(file_id=file.pk, generation=file.generation)
    quality = time.perf_counter() - started
    assert embedded == file.chunk_count, (embedded, file.chunk_count)
    return elapsed, quality, file.chunk_count


# Korean words for the latency run in Korean (--latency-language ko): like the
# English run's 5,000 words, a vocabulary of 5,000 words of 2-4 syllables, from
# 1,000 syllables (Korean text uses about 2,000), with particles and endings
# attached as in text. (Built from 50 syllables instead, every two-syllable
# piece is in ~12% of all passages: a far harder case than real text; see
# the report of issue 13.)
KOREAN_ENDINGS = ["", "", "", "는", "은", "을", "를", "이", "가", "에서", "으로", "하면", "합니다"]


def korean_vocabulary(size: int, rng: random.Random, *, syllables: int = 1000) -> list[str]:
    inventory = [chr(code) for code in rng.sample(range(0xAC00, 0xD7A4), syllables)]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(inventory) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def korean_sentence_words(words: list[str], count: int, rng: random.Random) -> str:
    return " ".join(rng.choice(words) + rng.choice(KOREAN_ENDINGS) for _ in range(count))


def load_korean_chunks(count: int, words: list[str], rng: random.Random) -> float:
    """Insert `count` Korean chunks with COPY (no vectors: a Korean question is
    ranked by full text alone with the local model); returns seconds."""
    started = time.perf_counter()
    file = KnowledgeFile.objects.create(display_name="bulk-ko.txt", storage_name="bulk-ko.txt",
                                        kind="txt", size_bytes=0, sha256="1" * 64,
                                        status=KnowledgeFile.Status.READY, chunk_count=count)
    buffer = io.StringIO()
    for index in range(count):
        text = korean_sentence_words(words, 160, rng)
        buffer.write(f"{file.pk}\t{index}\t{index // 3 + 1}\t\t{text}\t{len(text)}\n")
    with connection.cursor() as cursor:
        with cursor.copy("COPY chat_knowledgechunk (file_id, index, page, heading, text, "
                         "char_count) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        # What autovacuum does after a bulk insert (here at once, so that it
        # does not run during the timing): statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE chat_knowledgechunk")
    return time.perf_counter() - started


def load_chunks(count: int, words: list[str], rng: random.Random) -> float:
    """Insert `count` chunks (and their vectors) with COPY; returns seconds."""
    started = time.perf_counter()
    file = KnowledgeFile.objects.create(display_name="bulk.txt", storage_name="bulk-none.txt",
                                        kind="txt", size_bytes=0, sha256="0" * 64,
                                        status=KnowledgeFile.Status.READY, chunk_count=count)
    texts = [" ".join(rng.choice(words) for _ in range(160)) for _ in range(count)]
    buffer = io.StringIO()
    for index, text in enumerate(texts):
        buffer.write(f"{file.pk}\t{index}\t{index // 3 + 1}\t\t{text}\t{len(text)}\n")
    with connection.cursor() as cursor:
        with cursor.copy("COPY chat_knowledgechunk (file_id, index, page, heading, text, "
                         "char_count) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        cursor.execute("SELECT id FROM chat_knowledgechunk WHERE file_id = %s ORDER BY index",
                       [file.pk])
        ids = [row[0] for row in cursor.fetchall()]
    fulltext_loaded = time.perf_counter() - started
    print(f"  loaded {count:,} chunks (full-text) in {fulltext_loaded:.1f} s", flush=True)
    vectors.ensure_table(dimensions=local_embeddings.DIMENSIONS)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS kvector_hnsw")
        with cursor.copy(f"COPY {vectors.TABLE} (chunk_id, file_id, embedding) FROM STDIN") as copy:
            for start in range(0, len(ids), 1000):
                batch = local_embeddings.embed(texts[start:start + 1000])
                for chunk_id, vector in zip(ids[start:start + 1000], batch, strict=True):
                    copy.write(f"{chunk_id}\t{file.pk}\t"
                               f"[{','.join(f'{v:.5f}' for v in vector)}]\n")
        print(f"  vectors copied at {time.perf_counter() - started:.1f} s; building HNSW…",
              flush=True)
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f"CREATE INDEX kvector_hnsw ON {vectors.TABLE} "
                       "USING hnsw (embedding public.vector_cosine_ops)")
        # The word statistics ranking reads, and the visibility map (autovacuum
        # does both after a bulk insert; here at once, not during the timing).
        cursor.execute("VACUUM ANALYZE chat_knowledgechunk")
        cursor.execute(f"VACUUM ANALYZE {vectors.TABLE}")
    print(f"  WordLlama HNSW built at {time.perf_counter() - started:.1f} s; "
          "synthetic multilingual vectors…", flush=True)
    # Quality vectors: SYNTHETIC random unit vectors of the right size (see the
    # module's docstring), with their own HNSW index, as the product's table.
    vectors.ensure_table(dimensions=multilingual.DIMENSIONS, table=vectors.MINILM_TABLE,
                         model=multilingual.MODEL_ID)
    generator = np.random.default_rng(7)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS kvector_minilm_hnsw")
        with cursor.copy(f"COPY {vectors.MINILM_TABLE} (chunk_id, file_id, embedding) "
                         "FROM STDIN") as copy:
            for start in range(0, len(ids), 1000):
                batch = generator.standard_normal((len(ids[start:start + 1000]),
                                                   multilingual.DIMENSIONS)).astype(np.float32)
                batch /= np.linalg.norm(batch, axis=1, keepdims=True)
                for chunk_id, vector in zip(ids[start:start + 1000], batch, strict=True):
                    copy.write(f"{chunk_id}\t{file.pk}\t"
                               f"[{','.join(f'{v:.5f}' for v in vector)}]\n")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f"CREATE INDEX kvector_minilm_hnsw ON {vectors.MINILM_TABLE} "
                       "USING hnsw (embedding public.vector_cosine_ops)")
        cursor.execute(f"VACUUM ANALYZE {vectors.MINILM_TABLE}")
    KnowledgeFile.objects.filter(pk=file.pk).update(minilm_chunks=count)
    KnowledgeSettings.objects.update_or_create(pk=1, defaults={"semantic_search": True})
    return time.perf_counter() - started


def time_queries(queries: list[str], *, hybrid: bool, local_model: str = "multilingual"
                 ) -> list[float]:
    """The product's retrieval (retrieval.retrieve, passages fetched), with
    semantic search (local models: "multilingual" or "wordllama" only) on or off."""
    KnowledgeSettings.objects.update(semantic_search=hybrid)
    timings = []
    with override_settings(KNOWLEDGE_LOCAL_MODEL=local_model):
        for query in queries:
            started = time.perf_counter()
            retrieval.retrieve(query=query, conversation_id=None, endpoint=None)
            timings.append((time.perf_counter() - started) * 1000)
    KnowledgeSettings.objects.update(semantic_search=True)
    return timings


# --- Retrieval quality --------------------------------------------------------------

# The search column as it was before issue 13 (the english configuration only,
# no Korean/Japanese pieces), computed on the fly for the quality baseline.
OLD_VECTOR = ("(setweight(to_tsvector('english', c.heading), 'A') || "
              "setweight(to_tsvector('english', c.text), 'B'))")


def baseline_ids(*, query: str, limit: int, vector: str = "c.search") -> list[int]:
    """The full-text ranking this project shipped before issue 16, kept here
    verbatim as the baseline: every-word matches by ts_rank_cd, then any-word
    matches fill whatever slots are left. `vector=OLD_VECTOR` runs it on the
    search column as it was before issue 13 (no index: small corpora only)."""
    def ranked(*, any_word: bool, exclude: list[int], wanted: int) -> list[int]:
        tsquery = "plainto_tsquery('english', %s)"
        if any_word:
            tsquery = f"NULLIF(replace({tsquery}::text, ' & ', ' | '), '')::tsquery"
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH q AS (SELECT {tsquery} AS query),
                pool AS (
                    SELECT c.id, {vector} AS search FROM chat_knowledgechunk c, q
                    WHERE q.query IS NOT NULL AND {vector} @@ q.query
                      AND NOT (c.id = ANY(%s))
                    LIMIT 1000
                )
                SELECT pool.id FROM pool, q
                ORDER BY ts_rank_cd(pool.search, q.query) DESC, pool.id
                LIMIT %s
                """,  # noqa: S608
                [query, exclude, wanted])
            return [row[0] for row in cursor.fetchall()]

    found = ranked(any_word=False, exclude=[], wanted=limit)
    if len(found) < limit:
        found += ranked(any_word=True, exclude=found, wanted=limit - len(found))
    return found


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


# Per language: the module holding DOCUMENTS, QUESTIONS and UNRELATED.
LANGUAGES = {"en": corpus, "ko": knowledge_corpus_ko, "ja": knowledge_corpus_ja}


def load_corpus(language=corpus) -> dict[int, str]:
    """Upload and ingest every corpus document; returns file id -> corpus name."""
    names = {}
    for document in language.DOCUMENTS:
        file = services.upload(user=None, name=document.name, data=corpus.render(document))
        services.ingest(file_id=file.pk, generation=file.generation)
        file.refresh_from_db()
        assert file.status == KnowledgeFile.Status.READY, (document.name, file.error)
        # What the background task does next (knowledge.ingest_minilm).
        services.embed_file_minilm(file_id=file.pk, generation=file.generation)
        names[file.pk] = document.name
    return names


def score(*, system: str, ask, names: dict[int, str], language=corpus) -> dict:
    """Ask every question of `ask(query) -> [(file_id, text)]`; the metrics per phrasing."""
    per: dict[str, dict[str, list[float]]] = {}
    timings = []
    for question in language.QUESTIONS:
        for phrasing in corpus.PHRASINGS:
            started = time.perf_counter()
            passages = ask(getattr(question, phrasing))
            timings.append((time.perf_counter() - started) * 1000)
            rank = next((n for n, (file_id, text) in enumerate(passages, start=1)
                         if names.get(file_id) == question.file
                         and _flat(question.answer) in _flat(text)), None)
            cited = {names.get(file_id) for file_id, _ in passages}
            row = per.setdefault(phrasing, {"hit1": [], "recall5": [], "mrr": [],
                                            "precision": [], "files": [], "none": []})
            row["hit1"].append(rank == 1)
            row["recall5"].append(rank is not None and rank <= 5)
            row["mrr"].append(1 / rank if rank else 0.0)
            row["files"].append(len(cited))
            row["none"].append(not passages)
            if passages:
                row["precision"].append((question.file in cited) / len(cited))
    silent = 0
    for query in language.UNRELATED:
        silent += not ask(query)
    return {"system": system, "per": per, "silent": silent, "timings": timings,
            "language": language}


def print_quality(results: list[dict], *, code: str = "en") -> None:
    language = results[0]["language"] if results else corpus
    print(f"\nRetrieval quality [{code}]: {len(language.DOCUMENTS)} documents, "
          f"{len(language.QUESTIONS)} facts x {len(corpus.PHRASINGS)} phrasings; "
          f"{len(language.UNRELATED)} unrelated questions")
    header = (f"{'system':<34} {'phrasing':<11} {'hit@1':>6} {'rec@5':>6} {'MRR':>5} "
              f"{'file prec':>9} {'files':>5} {'no cite':>7}")
    print(header)
    print("-" * len(header))

    def mean(values) -> float:
        return sum(values) / len(values) if values else 0.0

    for result in results:
        rows = dict(result["per"])
        rows["all"] = {key: [v for phrasing in result["per"].values() for v in phrasing[key]]
                       for key in next(iter(result["per"].values()))}
        for phrasing, row in rows.items():
            print(f"{result['system']:<34} {phrasing:<11} {mean(row['hit1']):>6.0%} "
                  f"{mean(row['recall5']):>6.0%} {mean(row['mrr']):>5.2f} "
                  f"{mean(row['precision']):>9.0%} {mean(row['files']):>5.1f} "
                  f"{sum(row['none']):>7}")
        timings = result["timings"]
        print(f"{result['system']:<34} unrelated questions with no citation: "
              f"{result['silent']}/{len(language.UNRELATED)}; per question p50 "
              f"{percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms")
    print("targets: hit@1 >= 90%, recall@5 >= 98%, paraphrase hit@1 >= 80%, "
          "cited-file precision >= 80%")


def quality_systems() -> list[tuple[str, object]]:
    """(name, ask) pairs: the baseline and the product's retrieval."""
    limit = settings.KNOWLEDGE_PASSAGES_PER_ANSWER

    def texts(ids: list[int]) -> list[tuple[int, str]]:
        chunks = retrieval.KnowledgeChunk.objects.defer("search").in_bulk(ids)
        return [(chunks[i].file_id, chunks[i].text) for i in ids]

    def baseline(query: str):
        return texts(baseline_ids(query=query, limit=limit, vector=OLD_VECTOR))

    def product(query: str):
        return [(p.file_id, p.text) for p in retrieval.retrieve(
            query=query, conversation_id=None, endpoint=None)]

    def wordllama_only(query: str):
        with override_settings(KNOWLEDGE_LOCAL_MODEL="wordllama"):
            return product(query)

    def full_text_only(query: str):
        KnowledgeSettings.objects.update(semantic_search=False)
        try:
            return product(query)
        finally:
            KnowledgeSettings.objects.update(semantic_search=True)

    return [("baseline (before issues 16, 13)", baseline),
            ("product, full-text only", full_text_only),
            ("product, hybrid, WordLlama only", wordllama_only),
            ("product, hybrid, multilingual USE", product)]


def quality(language=corpus, *, code: str = "en") -> tuple[list[dict], list[dict]]:
    """The language's own tables, and the cross-language ones: questions in
    other languages whose answer is only in this corpus (loaded alone)."""
    names = load_corpus(language)
    results = []
    for name, ask in quality_systems():
        ask("warm up")
        results.append(score(system=name, ask=ask, names=names, language=language))
    cross = []
    for (asked, target), questions in knowledge_corpus_cross.PAIRS.items():
        if target != code:
            continue
        for name, ask in quality_systems()[1:]:
            ranks = []
            for question in questions:
                passages = ask(question.query)
                ranks.append(next((n for n, (file_id, text) in enumerate(passages, start=1)
                                   if names.get(file_id) == question.file
                                   and _flat(question.answer) in _flat(text)), None))
            cross.append({"pair": f"{asked}->{target}", "system": name, "ranks": ranks})
    return results, cross


def print_cross(rows: list[dict]) -> None:
    if not rows:
        return
    print("\nCross-language (question language -> the only documents that answer it)")
    header = f"{'pair':<7} {'system':<34} {'n':>3} {'hit@1':>6} {'rec@5':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        ranks = row["ranks"]
        hit1 = sum(rank == 1 for rank in ranks) / len(ranks)
        recall5 = sum(rank is not None and rank <= 5 for rank in ranks) / len(ranks)
        print(f"{row['pair']:<7} {row['system']:<34} {len(ranks):>3} {hit1:>6.0%} "
              f"{recall5:>6.0%}")
    print("target: hit@1 >= 70% (ko<->ja, ko/ja -> en)")


def korean_latency(args, rng: random.Random) -> list[tuple]:
    """Retrieval latency of Korean questions on N Korean chunks, with the
    baseline query timed at the same moment (the machine's share)."""
    words = korean_vocabulary(5000, rng)
    load = load_korean_chunks(args.chunks, words, rng)
    rows = [(f"load {args.chunks:,} Korean chunks (full-text index)", f"{load:.1f} s", "", "")]
    queries = [korean_sentence_words(words, rng.randint(2, 5), rng)
               for _ in range(args.queries)]
    time_queries(queries[:20], hybrid=True)  # warm up
    limit = settings.KNOWLEDGE_PASSAGES_PER_ANSWER
    timings = []
    for query in queries:
        started = time.perf_counter()
        list(retrieval.KnowledgeChunk.objects.filter(
            pk__in=baseline_ids(query=query, limit=limit)).defer("search"))
        timings.append((time.perf_counter() - started) * 1000)
    rows.append((f"ko retrieval, baseline (before issue 16), {args.chunks:,}",
                 f"p50 {percentile(timings, 50):.1f} ms",
                 f"p95 {percentile(timings, 95):.1f} ms", ""))
    timings = time_queries(queries, hybrid=True)
    rows.append((f"ko retrieval, product (full text), {args.chunks:,}",
                 f"p50 {percentile(timings, 50):.1f} ms",
                 f"p95 {percentile(timings, 95):.1f} ms", "p95 < 30 ms"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--quality", action="store_true",
                        help="only the retrieval quality tables (quick)")
    parser.add_argument("--latency-language", choices=["en", "ko"], default="en",
                        help="ko: time Korean questions on N Korean chunks (full text)")
    parser.add_argument("--languages", default="en,ko,ja",
                        help="the corpora of the quality tables (en, ko, ja), comma-separated")
    parser.add_argument("--quality-scale", default="",
                        help="try another similarity scale of the multilingual model, "
                             "'low:high' (retrieval.QUALITY_SIMILARITY)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the quality tables this many times (to see the spread)")
    args = parser.parse_args()
    rng = random.Random(7)
    if args.quality_scale:
        low, high = (float(value) for value in args.quality_scale.split(":"))
        retrieval.QUALITY_SIMILARITY = (low, high)
    print(f"multilingual model scale: {retrieval.QUALITY_SIMILARITY}")

    tenant_services.migrate_all()
    connection.set_schema_to_public()
    for old in Client.objects.filter(slug__startswith=PREFIX):
        tenant_services.delete_client(client=old)
    slug = f"{PREFIX}-{os.getpid()}"
    client = tenant_services.create_client(name="Bench knowledge", slug=slug,
                                           admin_email="a@bench.example",
                                           admin_password="bench-password-123").client
    rows = []
    try:
        with schema_context(client.schema_name):
            connection.tenant = client
            for _ in range(args.repeat):
                for code in filter(None, (c.strip() for c in args.languages.split(","))):
                    own, cross = quality(LANGUAGES[code], code=code)
                    print_quality(own, code=code)
                    print_cross(cross)
                    retrieval.KnowledgeChunk.objects.all().delete()
                    KnowledgeFile.objects.all().delete()
            if args.quality:
                return
            if args.latency_language == "ko":
                rows += korean_latency(args, rng)
            else:
                seconds, quality_seconds, chunk_count = pdf_ready_seconds(args.pages)
                rows.append((f"{args.pages}-page PDF to ready (incl. WordLlama vectors)",
                             f"{seconds:.2f} s",
                             f"{chunk_count} chunks", "< 10 s"))
                rows.append(("  then its multilingual vectors (background task)",
                             f"{quality_seconds:.2f} s",
                             f"{chunk_count / quality_seconds:.1f} chunks/s", ""))
                rows.append(("  to fully embedded (sum)",
                             f"{seconds + quality_seconds:.2f} s", "", ""))
                words = vocabulary(5000, rng)
                load = load_chunks(args.chunks, words, rng)
                rows.append((f"load {args.chunks:,} chunks + local vectors + HNSW",
                             f"{load:.1f} s", "USE-m synthetic", ""))
                queries = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 5)))
                           for _ in range(args.queries)]
                time_queries(queries[:20], hybrid=True)  # warm up
                limit = settings.KNOWLEDGE_PASSAGES_PER_ANSWER
                timings = []
                for query in queries:  # the same queries, the same moment: the machine's share
                    started = time.perf_counter()
                    list(retrieval.KnowledgeChunk.objects.filter(
                        pk__in=baseline_ids(query=query, limit=limit)).defer("search"))
                    timings.append((time.perf_counter() - started) * 1000)
                rows.append((f"retrieval, baseline (before issue 16), {args.chunks:,} chunks",
                             f"p50 {percentile(timings, 50):.1f} ms",
                             f"p95 {percentile(timings, 95):.1f} ms", ""))
                timings = []
                for query in queries:
                    started = time.perf_counter()
                    multilingual.embed([query])
                    timings.append((time.perf_counter() - started) * 1000)
                rows.append(("one question's multilingual vector (alone)",
                             f"p50 {percentile(timings, 50):.1f} ms",
                             f"p95 {percentile(timings, 95):.1f} ms", ""))
                for hybrid, model in ((False, "multilingual"), (True, "wordllama"),
                                      (True, "multilingual")):
                    timings = time_queries(queries, hybrid=hybrid, local_model=model)
                    kind = (f"hybrid, {'USE-m' if model == 'multilingual' else 'WordLlama'} "
                            "(FTS + HNSW)") if hybrid else "full-text only"
                    rows.append((f"retrieval, {kind}, {args.chunks:,} chunks",
                                 f"p50 {percentile(timings, 50):.1f} ms",
                                 f"p95 {percentile(timings, 95):.1f} ms", "p95 < 30 ms"))
    finally:
        connection.set_schema_to_public()
        tenant_services.delete_client(client=Client.objects.get(slug=slug))

    print(f"\nKnowledge benchmark ({os.cpu_count()} CPUs, PostgreSQL "
          f"{connection.cursor().connection.info.server_version})")
    print(f"{'measure':<58} {'result':>14} {'':>16} {'target':>12}")
    for name, result, extra, target in rows:
        print(f"{name:<58} {result:>14} {extra:>16} {target:>12}")


if __name__ == "__main__":
    main()
