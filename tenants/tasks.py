from celery import shared_task

from tenants.members.services import send_invitation, send_password_reset


@shared_task(name="tenants.tasks.send_invitation_email", ignore_result=True)
def send_invitation_email(*, user_id: int, invited_by_id: int, base_url: str = "") -> None:
    # Runs in the inviting client's schema (tenant-schemas-celery carries it).
    # `base_url` is ignored (tasks queued before links used the site address).
    send_invitation(user_id=user_id, invited_by_id=invited_by_id)


@shared_task(name="tenants.tasks.send_password_reset_email", ignore_result=True)
def send_password_reset_email(*, user_id: int) -> None:
    # Runs in the client's schema where the reset was asked for.
    send_password_reset(user_id=user_id)
