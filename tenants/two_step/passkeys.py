"""The one seam to py_webauthn: passkey registration and assertion checks.

Options go to the browser as JSON (webauthn.options_to_json); the browser's
answer comes back as the JSON of its PublicKeyCredential. Challenges are made
here and kept by the caller (in the session) until the answer arrives."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

TIMEOUT_MS = 120_000
BAD_ANSWER = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


class PasskeyError(Exception):
    """The browser's passkey answer was refused; the message says so to the person."""


@dataclass(frozen=True)
class Registered:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: list[str]


def registration_options(*, rp_id: str, rp_name: str, user_handle: bytes, email: str,
                         existing: list[bytes]) -> tuple[str, bytes]:
    """Options for navigator.credentials.create (JSON) and their challenge."""
    options = generate_registration_options(
        rp_id=rp_id, rp_name=rp_name, user_id=user_handle, user_name=email,
        user_display_name=email, timeout=TIMEOUT_MS,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in existing],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
    )
    return options_to_json(options), options.challenge


def authentication_options(*, rp_id: str, allowed: list[bytes]) -> tuple[str, bytes]:
    """Options for navigator.credentials.get (JSON) and their challenge."""
    options = generate_authentication_options(
        rp_id=rp_id, timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in allowed],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), options.challenge


def verify_registration(*, credential: str, challenge: bytes, rp_id: str,
                        origin: str) -> Registered:
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin)
        transports = json.loads(credential).get("response", {}).get("transports") or []
    except BAD_ANSWER as exc:
        raise PasskeyError(_("The passkey could not be registered: the browser's answer did not "
                             "check out. Try again.")) from exc
    return Registered(credential_id=verified.credential_id,
                      public_key=verified.credential_public_key,
                      sign_count=verified.sign_count,
                      transports=[str(t) for t in transports][:8])


def credential_id_of(credential: str) -> bytes | None:
    """The credential id a browser's assertion names (to find the stored key)."""
    try:
        raw = json.loads(credential).get("rawId") or json.loads(credential).get("id")
        return base64url_to_bytes(raw) if isinstance(raw, str) and len(raw) < 2000 else None
    except (ValueError, AttributeError, TypeError):
        return None


def verify_assertion(*, credential: str, challenge: bytes, rp_id: str, origin: str,
                     public_key: bytes, sign_count: int) -> int:
    """Check a signature made with a stored passkey; returns its new sign count."""
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=public_key,
            credential_current_sign_count=sign_count)
    except BAD_ANSWER as exc:
        raise PasskeyError(_("The passkey did not check out. Try again.")) from exc
    return verified.new_sign_count
