"""Knowledge tasks; the ingest_* ones go to the `ingest` queue (config.celery
routes knowledge.ingest_*)."""

from celery import shared_task
from django.utils import translation

from knowledge import services


@shared_task(name="knowledge.ingest_file", ignore_result=True, acks_late=True,
             soft_time_limit=600, time_limit=660)
def ingest_file(*, file_id: int, generation: int) -> None:
    # A reason the file failed is stored in the uploader's language.
    with translation.override(services.uploader_language(file_id=file_id)):
        services.ingest(file_id=file_id, generation=generation)


@shared_task(name="knowledge.ingest_embed_library", ignore_result=True, acks_late=True)
def ingest_embed_library() -> int:
    return services.embed_library()


@shared_task(name="knowledge.ingest_minilm", ignore_result=True, acks_late=True,
             soft_time_limit=1800, time_limit=1860)
def ingest_minilm(*, file_id: int, generation: int) -> int:
    # After the file is ready: its passages' multilingual vectors (the quality model).
    return services.embed_file_minilm(file_id=file_id, generation=generation)


@shared_task(name="knowledge.fail_stalled_files", ignore_result=True)
def fail_stalled_files() -> int:
    services.requeue_missing_minilm()
    return services.fail_stalled_files()
