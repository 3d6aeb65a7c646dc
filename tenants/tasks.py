from celery import shared_task

from tenants.members.services import send_invitation


@shared_task(name="tenants.tasks.send_invitation_email", ignore_result=True)
def send_invitation_email(*, user_id: int, invited_by_id: int, base_url: str) -> None:
    # Runs in the inviting client's schema (tenant-schemas-celery carries it).
    send_invitation(user_id=user_id, invited_by_id=invited_by_id, base_url=base_url)
