"""The demo client the one-command run creates, so a new user can try it at once."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

from django_tenants.utils import schema_context

from devtools.embedded import data_root
from tenants import services
from tenants.members.models import User
from tenants.members.services import create_member
from tenants.models import Client

DEMO_SLUG = "acme"


@dataclass(frozen=True)
class DemoCredentials:
    site: str
    admin_email: str
    admin_password: str
    employee_email: str
    employee_password: str
    staff_site: str
    staff_email: str
    staff_password: str


def _credentials_file():
    # Local development only: kept in the git-ignored data folder so a second
    # run can print the same logins again.
    return data_root() / "demo-credentials.json"


def ensure_demo() -> DemoCredentials:
    saved = _credentials_file()
    client = Client.objects.filter(slug=DEMO_SLUG).first()
    if client is not None and saved.exists():
        _keep_two_step_off(client)
        # The sites are worked out again: this run may serve another port.
        credentials = DemoCredentials(**{
            **json.loads(saved.read_text()),
            "site": services.site_url(services.client_host(client)),
            "staff_site": _staff_site(),
        })
        _save(saved, credentials)
        return credentials
    if client is not None:
        services.delete_client(client=client)  # half-made demo from an interrupted run
    result = services.create_client(
        name="Acme Corp", slug=DEMO_SLUG, admin_email="admin@acme.example",
        admin_password=secrets.token_urlsafe(9),
        # The printed logins work at once: the demo asks for no second step
        # (every other client asks its tenant admins; the banner says so).
        second_factor=Client.SecondFactor.OFF,
    )
    employee_password = secrets.token_urlsafe(9)
    with schema_context(result.client.schema_name):
        create_member(email="employee@acme.example", password=employee_password)
    staff_password = secrets.token_urlsafe(9)
    staff = User.objects.filter(email="staff@tuneaibot.local").first()
    if staff is None:
        User.objects.create_superuser("staff@tuneaibot.local", staff_password)
    else:
        staff.set_password(staff_password)
        staff.save(update_fields=["password"])
    credentials = DemoCredentials(
        site=services.site_url(result.domain.domain),
        admin_email=result.admin.email,
        admin_password=result.admin_password,
        employee_email="employee@acme.example",
        employee_password=employee_password,
        staff_site=_staff_site(),
        staff_email="staff@tuneaibot.local",
        staff_password=staff_password,
    )
    _save(saved, credentials)
    return credentials


def _keep_two_step_off(client: Client) -> None:
    """A demo made before two-step sign-in existed got the production default
    with its migration; its printed logins must still work at once. A choice a
    tenant admin made since (a recorded policy change) is kept."""
    from tenants.two_step.models import SecondFactorEvent

    with schema_context(client.schema_name):
        chosen = SecondFactorEvent.objects.filter(
            action=SecondFactorEvent.Action.POLICY_CHANGED).exists()
    if not chosen and client.second_factor != Client.SecondFactor.OFF:
        Client.objects.filter(pk=client.pk).update(second_factor=Client.SecondFactor.OFF)


def _staff_site() -> str:
    return services.site_url(services.client_host(services.ensure_platform())) + "admin/"


def _save(saved, credentials: DemoCredentials) -> None:  # noqa: ANN001 - a Path
    saved.write_text(json.dumps(asdict(credentials), indent=2))
    saved.chmod(0o600)
