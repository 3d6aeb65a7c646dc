from celery import shared_task

from data_rights import services


@shared_task(name="data_rights.purge_expired_data", ignore_result=True)
def purge_expired_data() -> dict:
    """Run by celery beat in every client's schema (tenant-aware scheduler)."""
    return services.purge_expired().deleted
