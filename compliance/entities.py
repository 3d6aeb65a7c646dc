"""The kinds of personal data redaction knows, their labels, and each
country's default choice.

Plain data with no heavy imports (no Presidio, no spaCy, no models), so forms,
pages and provisioning can read the list without building the engine.
"""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    """Marks a label for ``makemessages`` (which looks for this name) without
    importing Django's translation machinery, which needs settings; pages
    translate the labels when they show them."""
    return message


__all__ = [
    "COMMON_ENTITIES",
    "CUSTOM_TERM",
    "CUSTOM_TERM_LABEL",
    "ENTITY_LABELS",
    "NATIONAL_ENTITIES",
    "PLACEHOLDER_LABELS",
    "SUPPORTED_ENTITIES",
    "default_entities_for",
]

CUSTOM_TERM = "CUSTOM_TERM"
CUSTOM_TERM_LABEL = gettext_noop("Term from your redaction list")

# Entity type -> label shown on the tenant's data-controls page. The order is
# also the tie-break when two detectors claim the same span with equal
# confidence: the more specific type listed first wins (ITIN before SSN, since
# both share the ddd-dd-dddd shape).
SUPPORTED_ENTITIES: dict[str, str] = {
    "EMAIL_ADDRESS": gettext_noop("E-mail addresses"),
    "PHONE_NUMBER": gettext_noop("Phone numbers"),
    "CREDIT_CARD": gettext_noop("Payment card numbers"),
    "IBAN_CODE": gettext_noop("Bank account numbers (IBAN)"),
    "IP_ADDRESS": gettext_noop("IP addresses"),
    "US_ITIN": gettext_noop("US taxpayer numbers (ITIN)"),
    "US_SSN": gettext_noop("US Social Security numbers"),
    "UK_NINO": gettext_noop("UK National Insurance numbers"),
    "ES_NIF": gettext_noop("Spanish tax ids (NIF/DNI)"),
    "IT_FISCAL_CODE": gettext_noop("Italian fiscal codes (codice fiscale)"),
    "PL_PESEL": gettext_noop("Polish national ids (PESEL)"),
    "FI_PERSONAL_IDENTITY_CODE": gettext_noop("Finnish personal identity codes (HETU)"),
    "KR_RRN": gettext_noop("Korean resident registration numbers (주민등록번호)"),
    "KR_FRN": gettext_noop("Korean foreigner registration numbers (외국인등록번호)"),
    "KR_BRN": gettext_noop("Korean business registration numbers (사업자등록번호)"),
    "KR_PASSPORT": gettext_noop("Korean passport numbers (여권번호)"),
    "KR_DRIVER_LICENSE": gettext_noop("Korean driver's licence numbers (운전면허번호)"),
    "JP_MY_NUMBER": gettext_noop("Japanese My Numbers (マイナンバー)"),
    "JP_PASSPORT": gettext_noop("Japanese passport numbers (旅券番号)"),
    "MEMBER_NAME": gettext_noop("Names of your own people (from your member directory)"),
    "PERSON": gettext_noop("Names of other people (customers, candidates, contacts)"),
    "POSTAL_ADDRESS": gettext_noop("Postal addresses and postal codes"),
    "SECRET": gettext_noop("Secrets pasted in messages (access keys, API tokens, passwords)"),
}

ENTITY_LABELS: dict[str, str] = {**SUPPORTED_ENTITIES, CUSTOM_TERM: CUSTOM_TERM_LABEL}

# Short labels keep prompts readable and cost fewer tokens than Presidio's
# entity names; every label is unique so a placeholder names its type.
PLACEHOLDER_LABELS: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
    "US_ITIN": "ITIN",
    "US_SSN": "SSN",
    "UK_NINO": "NINO",
    "ES_NIF": "NIF",
    "IT_FISCAL_CODE": "CODICE_FISCALE",
    "PL_PESEL": "PESEL",
    "FI_PERSONAL_IDENTITY_CODE": "HETU",
    "KR_RRN": "RRN",
    "KR_FRN": "FRN",
    "KR_BRN": "BRN",
    "KR_PASSPORT": "KR_PASSPORT",
    "KR_DRIVER_LICENSE": "DRIVER_LICENSE",
    "JP_MY_NUMBER": "MY_NUMBER",
    "JP_PASSPORT": "JP_PASSPORT",
    # Names share one label, whoever found them: a member's name found in the
    # directory and by a name model is the same person to the model.
    "MEMBER_NAME": "PERSON",
    "PERSON": "PERSON",
    "POSTAL_ADDRESS": "ADDRESS",
    "SECRET": "SECRET",
    CUSTOM_TERM: "TERM",
}

# Found in any language, for every client.
COMMON_ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "MEMBER_NAME",
    "PERSON",
    "POSTAL_ADDRESS",
    "SECRET",
)

# National ids by ISO 3166 country code.
NATIONAL_ENTITIES: dict[str, tuple[str, ...]] = {
    "US": ("US_ITIN", "US_SSN"),
    "GB": ("UK_NINO",),
    "ES": ("ES_NIF",),
    "IT": ("IT_FISCAL_CODE",),
    "PL": ("PL_PESEL",),
    "FI": ("FI_PERSONAL_IDENTITY_CODE",),
    "KR": ("KR_RRN", "KR_FRN", "KR_BRN", "KR_PASSPORT", "KR_DRIVER_LICENSE"),
    "JP": ("JP_MY_NUMBER", "JP_PASSPORT"),
}

# Korean and Japanese ids are mostly bare digit runs (10-13 digits with a check
# digit) that a Western client's order and tracking numbers pass one time in
# ten, so they are on by default only for clients in those countries.
_EAST_ASIAN = ("KR", "JP")


def default_entities_for(country: str | None) -> list[str]:
    """The kinds of data redacted for a new client in ``country``.

    Korea and Japan: the common kinds plus that country's ids. Anywhere else:
    the common kinds plus the US and European ids (the set every client had
    before countries were known). Tenant admins can change it afterwards.
    """
    country = (country or "").strip().upper()
    if country in _EAST_ASIAN:
        chosen = {*COMMON_ENTITIES, *NATIONAL_ENTITIES[country]}
    else:
        excluded = {e for c in _EAST_ASIAN for e in NATIONAL_ENTITIES[c]}
        chosen = set(SUPPORTED_ENTITIES) - excluded
    return [e for e in SUPPORTED_ENTITIES if e in chosen]
