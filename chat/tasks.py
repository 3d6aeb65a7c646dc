from celery import shared_task

from chat import services
from chat.leases import LEASE_SECONDS


@shared_task(bind=True, name="chat.tasks.generate_answer", ignore_result=True,
             max_retries=40, acks_late=True)
def generate_answer(self, *, message_id: int) -> None:
    try:
        services.generate_answer(message_id=message_id)
    except services.AnswerBusy as exc:
        # Another worker is writing it (or died and its lease has not expired yet).
        raise self.retry(countdown=LEASE_SECONDS, exc=exc) from exc


@shared_task(name="chat.tasks.fail_abandoned_answers", ignore_result=True)
def fail_abandoned_answers() -> int:
    return services.fail_abandoned_answers()
