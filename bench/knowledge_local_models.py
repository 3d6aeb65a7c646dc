"""Local embedding models compared on the labelled corpus (issue 16's question:
would a transformer beat WordLlama's static vectors, within the budgets?).

The product's fast local model is WordLlama (a lookup table: ~1 ms per
passage). This script measures the quality model (knowledge.multilingual:
Universal Sentence Encoder multilingual v3, numpy; it replaced
all-MiniLM-L6-v2 in issue 24) beside it, on the same passages and questions,
with the product's full-text ranking and fusion (`retrieval.rank`); vectors
are compared exactly in numpy (the corpus is small). It also times what the
quality model costs: embedding a generated 100-page PDF's passages, and one
question.

The quality model is added in the background after a file is ready
(bench/knowledge.py measures the product). This script compares the two
models' vectors directly, e.g. to recalibrate retrieval.QUALITY_SIMILARITY:

    .venv/bin/python bench/knowledge_local_models.py [--scales 0.3:0.65,...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TUNEAIBOT_DATA_DIR", ".data/bench")
os.environ.setdefault("TUNEAIBOT_DEV", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402


def quality_encoder():
    """The product's quality model (knowledge.multilingual); None when not
    installed (or its files fail their SHA-256 check)."""
    from knowledge import multilingual

    try:
        multilingual.files()
    except (multilingual.ModelMissing, multilingual.ModelFileMismatch):
        return None
    return multilingual.embed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="0.25:0.6,0.3:0.65",
                        help="quality-model similarity scales (unrelated:fully related)")
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--language", choices=["en", "ko", "ja"], default="en",
                        help="the labelled corpus (and its cross-language questions)")
    parser.add_argument("--with-wordllama", action="store_true",
                        help="also try each scale with WordLlama's similarity beside the "
                             "quality model's (the better of the two, each on its scale)")
    args = parser.parse_args()
    minilm = quality_encoder()
    if minilm is None:
        sys.exit("The multilingual model is not installed: run scripts/bootstrap.sh")

    from bench import knowledge as bk  # noqa: I001 - first: starts the services, sets Django up
    from django.conf import settings
    from django.db import connection
    from django_tenants.utils import schema_context

    from knowledge import local_embeddings, retrieval, services
    from knowledge.models import KnowledgeChunk, KnowledgeFile
    from tenants import services as tenant_services
    from tenants.models import Client

    tenant_services.migrate_all()
    connection.set_schema_to_public()
    slug = f"bench-models-{os.getpid()}"  # not bk.PREFIX: bench/knowledge.py erases those
    client = tenant_services.create_client(name="Bench local models", slug=slug,
                                           admin_email="a@bench.example",
                                           admin_password="bench-password-123").client
    rows = []
    try:
        with schema_context(client.schema_name):
            connection.tenant = client
            language = bk.LANGUAGES[args.language]
            names = bk.load_corpus(language)
            chunks = list(KnowledgeChunk.objects.select_related("file").defer("search")
                          .order_by("id"))
            ids = [chunk.id for chunk in chunks]
            by_id = {chunk.id: chunk for chunk in chunks}
            texts = [services.embedding_text(file_name=chunk.file.display_name,
                                             heading=chunk.heading, text=chunk.text)
                     for chunk in chunks]
            matrices = {"wordllama": local_embeddings.embed(texts), "minilm": minilm(texts)}
            embedders = {"wordllama": lambda q: local_embeddings.embed([q])[0],
                         "minilm": lambda q: minilm([q])[0]}

            def nearest(model: str, query: str, lexical) -> dict[int, float]:
                sims = matrices[model] @ embedders[model](query)
                found = {ids[i]: float(sims[i]) for i in np.argsort(-sims)[:20]}
                for match in lexical:
                    found[match.chunk_id] = float(sims[ids.index(match.chunk_id)])
                return found

            def system(model: str | None, scale: tuple[float, float]):
                def ask(query: str):
                    lexical = retrieval.lexical_matches(query=query, conversation_id=None)
                    similar = None
                    if model == "both":
                        low, high = scale
                        quality = {k: (v - low) / (high - low)
                                   for k, v in nearest("minilm", query, lexical).items()}
                        wl_low, wl_high = retrieval.LOCAL_SIMILARITY
                        for k, v in nearest("wordllama", query, lexical).items():
                            quality[k] = max(quality.get(k, -1.0),
                                             (v - wl_low) / (wl_high - wl_low))
                        chosen = retrieval.rank(lexical=lexical, similar=quality, scale=(0, 1),
                                                limit=settings.KNOWLEDGE_PASSAGES_PER_ANSWER)
                        return [(by_id[i].file_id, by_id[i].text) for i, _ in chosen]
                    if model:
                        sims = matrices[model] @ embedders[model](query)
                        similar = {ids[i]: float(sims[i]) for i in np.argsort(-sims)[:20]}
                        for match in lexical:
                            similar[match.chunk_id] = float(sims[ids.index(match.chunk_id)])
                    chosen = retrieval.rank(lexical=lexical, similar=similar, scale=scale,
                                            limit=settings.KNOWLEDGE_PASSAGES_PER_ANSWER)
                    return [(by_id[i].file_id, by_id[i].text) for i, _ in chosen]
                return ask

            systems = [("full-text only", system(None, (0, 1))),
                       (f"+ WordLlama {retrieval.LOCAL_SIMILARITY}",
                        system("wordllama", retrieval.LOCAL_SIMILARITY))]
            for text in args.scales.split(","):
                low, high = (float(v) for v in text.split(":"))
                systems.append((f"+ USE multilingual ({low}, {high})",
                                system("minilm", (low, high))))
                if args.with_wordllama:
                    systems.append((f"+ USE-m ({low}, {high}) | WordLlama",
                                    system("both", (low, high))))
            results = [bk.score(system=name, ask=ask, names=names, language=language)
                       for name, ask in systems]
            bk.print_quality(results, code=args.language)
            cross = []
            for (asked, target), questions in bk.knowledge_corpus_cross.PAIRS.items():
                if target != args.language:
                    continue
                for name, ask in systems[1:]:
                    ranks = []
                    for question in questions:
                        passages = ask(question.query)
                        ranks.append(next((n for n, (file_id, text) in enumerate(passages, 1)
                                           if names.get(file_id) == question.file
                                           and bk._flat(question.answer) in bk._flat(text)),
                                          None))
                    cross.append({"pair": f"{asked}->{target}", "system": name, "ranks": ranks})
            bk.print_cross(cross)
            if args.pages <= 0:
                return

            pdf = bk.make_text_pdf(page_count=args.pages)
            file = services.upload(user=None, name="hundred-pages.pdf", data=pdf)
            started = time.perf_counter()
            services.ingest(file_id=file.pk, generation=file.generation)
            ready = time.perf_counter() - started
            file.refresh_from_db()
            passages = [services.embedding_text(file_name=file.display_name, heading=h, text=t)
                        for h, t in KnowledgeChunk.objects.filter(file=file)
                        .values_list("heading", "text")]
            started = time.perf_counter()
            local_embeddings.embed(passages)
            wordllama = time.perf_counter() - started
            started = time.perf_counter()
            minilm(passages)
            transformer = time.perf_counter() - started
            rows.append((f"{args.pages}-page PDF to ready (product, WordLlama)",
                         f"{ready:.2f} s", f"{len(passages)} passages"))
            rows.append(("  of which: its passages' WordLlama vectors", f"{wordllama:.2f} s", ""))
            rows.append(("  the same passages' multilingual vectors", f"{transformer:.2f} s", ""))
            timings = []
            for query in [q.paraphrase for q in bk.corpus.QUESTIONS]:
                started = time.perf_counter()
                minilm([query])
                timings.append((time.perf_counter() - started) * 1000)
            rows.append(("one question's multilingual vector",
                         f"p50 {bk.percentile(timings, 50):.1f} ms",
                         f"p95 {bk.percentile(timings, 95):.1f} ms"))
            KnowledgeFile.objects.all().delete()
    finally:
        connection.set_schema_to_public()
        tenant_services.delete_client(client=Client.objects.get(slug=slug))
    print(f"\nCost on this machine ({os.cpu_count()} CPUs; shared: read as upper bounds)")
    for name, result, extra in rows:
        print(f"{name:<52} {result:>14} {extra:>16}")


if __name__ == "__main__":
    main()
