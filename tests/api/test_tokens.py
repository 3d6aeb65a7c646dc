"""Personal access tokens in-process against real PostgreSQL: hashed at rest,
shown once, a recognisable prefix, at most a year, revocable by the member and
by tenant admins, dead with a deactivated member; the command staff use."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from api import selectors, services
from api.errors import ApiError
from api.models import ApiToken
from tests.support.accounts import ADMIN_EMAIL, signed_in_client


@pytest.fixture
def acme(make_client):
    return make_client("apitok")


def _member(email="ann@example.com"):
    from tenants.members.services import create_member

    return create_member(email=email, password="correct horse battery staple")


def test_a_token_is_stored_only_as_its_hash_and_starts_with_its_prefix(acme):
    with schema_context(acme.client.schema_name):
        ann = _member()
        token, secret = services.create_token(user=ann, name="Sheets", days=30)

        stored = ApiToken.objects.get(pk=token.pk)
        assert secret.startswith("tuneai_pat_") and len(secret) > 40
        assert stored.token_sha256 == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str([getattr(stored, f.attname) for f in ApiToken._meta.fields])
        assert stored.prefix == secret[:15]
        assert abs(stored.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(
            minutes=1)
        assert services.authenticate(authorization=f"Bearer {secret}").user == ann
        assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize("days", [0, 366])
def test_a_token_lasts_one_day_to_one_year(acme, days):
    with schema_context(acme.client.schema_name), pytest.raises(ValidationError):
        services.create_token(user=_member(), name="Sheets", days=days)


def test_revoked_expired_and_deactivated_tokens_are_refused_at_once(acme):
    with schema_context(acme.client.schema_name):
        ann, bob = _member(), _member("bob@example.com")
        admin = ann.__class__.objects.get(email=ADMIN_EMAIL)
        revoked_by_admin = services.create_token(user=ann, name="a")
        expired = services.create_token(user=ann, name="b")
        of_bob = services.create_token(user=bob, name="c")
        services.revoke_token(token=revoked_by_admin[0], by=admin)
        ApiToken.objects.filter(pk=expired[0].pk).update(expires_at=timezone.now())
        bob.is_active = False
        bob.save()

        for _token, secret in (revoked_by_admin, expired, of_bob):
            with pytest.raises(ApiError) as refused:
                services.authenticate(authorization=f"Bearer {secret}")
            assert refused.value.status == 401
        for header in ("", "Bearer", "Basic abc", "Bearer tuneai_pat_nope", "Bearer sk-x"):
            with pytest.raises(ApiError) as refused:
                services.authenticate(authorization=header)
            assert refused.value.status == 401
        assert ApiToken.objects.get(pk=revoked_by_admin[0].pk).revoked_by == admin


def test_switching_the_api_off_refuses_valid_tokens_with_403(acme):
    with schema_context(acme.client.schema_name):
        _token, secret = services.create_token(user=_member(), name="a")
        services.update_api_settings(enabled=False, cors_origins=[])

        with pytest.raises(ApiError) as refused:
            services.authenticate(authorization=f"Bearer {secret}")
        assert refused.value.status == 403


def test_cors_origins_must_be_origins(acme):
    with schema_context(acme.client.schema_name):
        with pytest.raises(ValidationError):
            services.update_api_settings(enabled=True, cors_origins=["https://x.com/path"])
        saved = services.update_api_settings(
            enabled=True, cors_origins=["https://Tools.Example.com/", "", "http://a.b:8080"])
        assert saved.cors_origins == ["http://a.b:8080", "https://tools.example.com"]


def test_a_member_sees_the_secret_once_and_revokes_only_their_own(acme):
    with schema_context(acme.client.schema_name):
        ann = _member()
        _theirs, _secret = services.create_token(user=ann, name="Ann's macro")
    http = signed_in_client(acme)

    made = http.post("/accounts/api-tokens/", {"name": "My script", "days": "7"})
    page_again = http.get("/accounts/api-tokens/")

    assert made.status_code == 200 and made["Cache-Control"] == "no-store"
    with schema_context(acme.client.schema_name):
        mine = ApiToken.objects.get(name="My script")
        secret = (made.content.decode().split('id="new-token-secret"')[1]
                  .split(">", 1)[1].split("<")[0])
        assert hashlib.sha256(secret.encode()).hexdigest() == mine.token_sha256
    assert secret not in page_again.content.decode()
    assert "My script" in page_again.content.decode()
    assert "Ann&#x27;s macro" not in page_again.content.decode()
    # Someone else's token: 404 on the member's page; the admin page revokes it.
    assert http.post(f"/accounts/api-tokens/{_theirs.pk}/revoke/").status_code == 404
    assert http.post(f"/accounts/api-tokens/{mine.pk}/revoke/").status_code == 302
    assert http.post(f"/settings/api/tokens/{_theirs.pk}/revoke/").status_code == 302
    with schema_context(acme.client.schema_name):
        assert not selectors.tokens_of(user=ann).filter(revoked_at__isnull=True).exists()
        assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert "Ann&#x27;s macro" in http.get("/settings/api/").content.decode()


def test_staff_issue_a_token_from_the_command_line(acme):
    out, err = io.StringIO(), io.StringIO()

    call_command("api_token", acme.client.slug, ADMIN_EMAIL.upper(), "--name", "ERP",
                 "--days", "10", stdout=out, stderr=err)

    secret = out.getvalue().strip().splitlines()[-1]
    with schema_context(acme.client.schema_name):
        assert services.authenticate(authorization=f"Bearer {secret}").name == "ERP"
