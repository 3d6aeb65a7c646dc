from __future__ import annotations

from django.db.models import QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.members.models import User
from tenants.two_step.models import Passkey, SecondFactorEvent


def factors_of(*, user: User) -> dict:
    """A person's second factors, for their pages."""
    apps = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    keys = list(Passkey.objects.filter(user=user))
    return {
        "authenticator_apps": apps, "passkeys": keys,
        "recovery_codes_left": StaticToken.objects.filter(device__user=user,
                                                          device__confirmed=True).count(),
        "has_factor": bool(apps or keys),
    }


def owns_factor(*, user: User, kind: str, factor_id: int) -> bool:
    model = {"totp": TOTPDevice, "passkey": Passkey}.get(kind)
    return bool(model and model.objects.filter(user=user, pk=factor_id,
                                               **({"confirmed": True} if kind == "totp" else {}))
                .exists())


def users_with_factor() -> set[int]:
    """Ids of the people (in this schema) who have set up a second factor."""
    return (set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
            | set(Passkey.objects.values_list("user_id", flat=True)))


def recent_events(limit: int = 20) -> QuerySet[SecondFactorEvent]:
    return SecondFactorEvent.objects.all()[:limit]
