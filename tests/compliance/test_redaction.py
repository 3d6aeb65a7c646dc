"""PII redaction: what is caught, what is left alone, and that it stays offline.

Runs without Django: python -m pytest -p no:django tests/compliance/test_redaction.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from compliance import redaction
from compliance.redaction import (
    CUSTOM_TERM,
    DEFAULT_ENTITIES,
    PLACEHOLDER_LABELS,
    SUPPORTED_ENTITIES,
    StreamRestorer,
    redact,
    restore,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# One real-looking example per detector, each in a sentence with no cue word
# unless the type needs one.
EXAMPLES = {
    "EMAIL_ADDRESS": ("Send it to maria.lopez@example.co.uk today.", "maria.lopez@example.co.uk"),
    "PHONE_NUMBER": ("The site office is on +44 20 7946 0958 now.", "+44 20 7946 0958"),
    "CREDIT_CARD": ("Refund 4111 1111 1111 1111 in full.", "4111 1111 1111 1111"),
    "IBAN_CODE": ("Wire it to DE89 3704 0044 0532 0130 00 please.", "DE89 3704 0044 0532 0130 00"),
    "IP_ADDRESS": ("Logins came from 203.0.113.42 overnight.", "203.0.113.42"),
    "US_ITIN": ("Her ITIN is 912-78-1234 now.", "912-78-1234"),
    "US_SSN": ("He gave 219-09-9999 on the form.", "219-09-9999"),
    "UK_NINO": ("HR recorded AB 12 34 56 C today.", "AB 12 34 56 C"),
    "ES_NIF": ("The supplier tax id is 12345678Z.", "12345678Z"),
    "IT_FISCAL_CODE": ("Codice fiscale RSSMRA85T10A562S on file.", "RSSMRA85T10A562S"),
    "PL_PESEL": ("New hire PESEL 44051401359 arrived.", "44051401359"),
    "FI_PERSONAL_IDENTITY_CODE": ("Tenant 131052-308T signed.", "131052-308T"),
    "KR_RRN": ("주민등록번호는 900101-1234568입니다.", "900101-1234568"),
    "KR_FRN": ("외국인등록번호 900101-5234567 확인했습니다.", "900101-5234567"),
    "KR_BRN": ("사업자등록번호 123-45-67891로 발행해 주세요.", "123-45-67891"),
    "KR_PASSPORT": ("출장자 여권은 M123A4567입니다.", "M123A4567"),
    "KR_DRIVER_LICENSE": ("면허 11-19-123456-12 확인.", "11-19-123456-12"),
    "JP_MY_NUMBER": ("マイナンバーは1234 5678 9018です。", "1234 5678 9018"),
    "JP_PASSPORT": ("旅券番号はTK1234567です。", "TK1234567"),
    "MEMBER_NAME": ("Ask Priya Patel to sign it.", "Priya Patel"),
    "PERSON": ("The tenant, Dr. Alan Turing, signed it.", "Alan Turing"),
    "POSTAL_ADDRESS": ("Ship it to 12 Baker Street today.", "12 Baker Street"),
    "SECRET": ("Use key AKIAIOSFODNN7EXAMPLE for the bucket.", "AKIAIOSFODNN7EXAMPLE"),
}
# The client's directory for the examples above.
MEMBERS = [redaction.Member("7", "Priya", "Patel")]


def test_every_supported_entity_has_an_example_label_and_default() -> None:
    assert set(EXAMPLES) == set(SUPPORTED_ENTITIES)
    assert set(SUPPORTED_ENTITIES) == set(DEFAULT_ENTITIES)
    assert all(SUPPORTED_ENTITIES.values())
    # Names share the PERSON label, whoever found them; every other label is unique.
    labels = [PLACEHOLDER_LABELS[e] for e in [*SUPPORTED_ENTITIES, CUSTOM_TERM]
              if e != "MEMBER_NAME"]
    assert len(set(labels)) == len(labels)
    assert PLACEHOLDER_LABELS["MEMBER_NAME"] == "PERSON"


@pytest.mark.parametrize("entity_type", list(EXAMPLES))
def test_each_entity_type_is_redacted(entity_type: str) -> None:
    text, value = EXAMPLES[entity_type]

    result = redact(text, members=MEMBERS)

    label = PLACEHOLDER_LABELS[entity_type]
    assert value not in result.text
    assert f"<{label}_1>" in result.text
    assert [(i.entity_type, i.original) for i in result.items] == [(entity_type, value)]
    assert result.counts == {entity_type: 1}
    assert result.mapping == {f"<{label}_1>": value}


@pytest.mark.parametrize(
    "phone",
    [
        "+1 415 555 0132",
        "+1-207-843-9150x008",
        "(555) 123-4567",
        "(555)123-4567",
        "555.123.4567",
        "555-123-4567",
        "1-555-123-4567",
        "+44 20 7946 0958",
        "+44(0)131 4960979",
        "+442074960666",
        "+49 (0) 89 123456",
        "+33 6 12 34 56 78",
        "+33 (0)6 44 83 37 88",
        "0049 30 901820",
        "001-335-504-9258",
        "020 7946 0958",
        "(0114) 4960907",
        "04.15.39.15.00",
    ],
)
def test_common_phone_formats_are_caught_without_a_cue_word(phone: str) -> None:
    result = redact(f"Noted {phone} for the file.")

    assert result.text == "Noted <PHONE_1> for the file."
    assert result.items[0].original == phone


def test_bare_digit_phone_needs_a_cue_word() -> None:
    assert redact("Call me on 5551234567 tonight.").text == "Call me on <PHONE_1> tonight."
    assert redact("Shipment 5551234567 left today.").items == []


def test_ordinary_business_text_is_left_alone() -> None:
    text = textwrap.dedent(
        """\
        Order 12345678 shipped on 2024-03-15 and should arrive by 03/18/2024 at 10:30.
        Invoice INV-2024-00123 totals $1,234.56 (EUR 1.099,90), discount 12.5%.
        PO 4500012345 covers 250 units at 12.50 each; ticket #558812 was reopened.
        We upgraded to version 3.12.1, then v1.2.3.4 and release 2.0.1.4; build 20240315.
        Reference 0722-4704-55 is the customs declaration, account 043-55255 in the ERP.
        Tracking number 123456789012 is with the courier; SKU AB-1234-56 is back in week 12.
        Ship to the Springfield depot, route 94107. Revenue grew 14.2% to $3.4M in Q3 2024.
        Commit 3f2a9c1d0b changed 42 files between 09:15:00 and 17:45:30 on 15.03.2024.
        """
    )

    result = redact(text, terms=["Orion"])

    assert result.items == []
    assert result.text == text
    assert result.mapping == {}


def test_only_the_chosen_entities_are_redacted() -> None:
    text = "Mail ana@example.com or call (555) 123-4567."

    result = redact(text, entities=["EMAIL_ADDRESS"])

    assert result.text == "Mail <EMAIL_1> or call (555) 123-4567."
    assert redact(text, entities=[]).text == text


def test_unknown_entity_is_refused_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="Unknown PII type"):
        redact("hello", entities=["EMAIL", "PHONE_NUMBER"])


def test_placeholders_are_consistent_across_a_conversation() -> None:
    first = redact("Ana (ana@example.com, (555) 123-4567) met Bo at bo@example.org.", terms=["Ana"])
    assert first.text == "<TERM_1> (<EMAIL_1>, <PHONE_1>) met Bo at <EMAIL_2>."

    # The caller stores the mapping as JSON between messages.
    stored = json.loads(json.dumps(first.mapping))
    second = redact(
        "ANA wrote from ANA@EXAMPLE.COM and 555.123.4567; cc cy@example.net.",
        terms=["ana"],
        mapping=stored,
    )

    assert second.text == "<TERM_1> wrote from <EMAIL_1> and <PHONE_1>; cc <EMAIL_3>."
    assert second.mapping == {**first.mapping, "<EMAIL_3>": "cy@example.net"}
    assert second.counts == {CUSTOM_TERM: 1, "EMAIL_ADDRESS": 2, "PHONE_NUMBER": 1}
    assert stored == first.mapping  # the caller's dict is not modified


def test_numbering_continues_after_the_highest_placeholder_in_the_mapping() -> None:
    result = redact("new: x@example.com", mapping={"<EMAIL_7>": "old@example.com"})

    assert result.text == "new: <EMAIL_8>"


def test_items_carry_offsets_into_the_original_text() -> None:
    text = "Ana at ana@example.com; again ana@example.com."

    result = redact(text, terms=["Ana"])

    assert [(i.entity_type, i.placeholder) for i in result.items] == [
        (CUSTOM_TERM, "<TERM_1>"),
        ("EMAIL_ADDRESS", "<EMAIL_1>"),
        ("EMAIL_ADDRESS", "<EMAIL_1>"),
    ]
    assert all(text[i.start : i.end] == i.original for i in result.items)
    assert result.counts == {CUSTOM_TERM: 1, "EMAIL_ADDRESS": 2}


def test_custom_terms_match_whole_words_case_insensitively_longest_first() -> None:
    text = (
        "Acme Labs and ACME signed; acme-wide rollout. Acmes, subacme and acme_x stay. "
        "Project\nKestrel is on track. C++ Guild meets. Tamsin's notes."
    )

    result = redact(
        text, terms=["Acme", "acme labs", "Project Kestrel", "C++ Guild", "Tamsin", " "]
    )

    assert result.text == (
        "<TERM_1> and <TERM_2> signed; <TERM_2>-wide rollout. Acmes, subacme and acme_x stay. "
        "<TERM_3> is on track. <TERM_4> meets. <TERM_5>'s notes."
    )
    assert result.mapping["<TERM_1>"] == "Acme Labs"
    assert result.mapping["<TERM_2>"] == "ACME"


def test_a_term_inside_an_email_goes_with_the_whole_address() -> None:
    result = redact("Write to jo@acme.com", terms=["acme"])

    assert result.text == "Write to <EMAIL_1>"
    assert [i.entity_type for i in result.items] == ["EMAIL_ADDRESS"]


def test_overlapping_matches_keep_the_whole_value_once() -> None:
    # "0044 0532 0130 00" inside the IBAN also looks like a phone number.
    result = redact("IBAN DE89 3704 0044 0532 0130 00.")

    assert result.text == "IBAN <IBAN_1>."
    assert len(result.items) == 1


def test_ssn_counts_as_bare_digits_only_with_a_cue_word() -> None:
    assert redact("SSN: 219099999").text == "SSN: <SSN_1>"
    assert redact("Batch 219099999 closed.").items == []


def test_restore_round_trips_a_redacted_text() -> None:
    text = "Ana (ana@example.com, +44 20 7946 0958) paid with 4111-1111-1111-1111."
    result = redact(text, terms=["Ana"])

    assert restore(result.text, mapping=result.mapping) == text


def test_restore_copes_with_how_a_model_echoes_placeholders() -> None:
    mapping = {"<EMAIL_1>": "ana@example.com", "<TERM_1>": "Ana", "<EMAIL_10>": "z@example.com"}
    answer = (
        "Dear <TERM_1>, I wrote to &lt;EMAIL_1&gt;, [EMAIL_1], {email_1}, < EMAIL_1 >, "
        "EMAIL_1 and <EMAIL_10>; <EMAIL_9> is unknown and email_1 is just text."
    )

    assert restore(answer, mapping=mapping) == (
        "Dear Ana, I wrote to ana@example.com, ana@example.com, ana@example.com, "
        "ana@example.com, ana@example.com and z@example.com; <EMAIL_9> is unknown and "
        "email_1 is just text."
    )


def test_stream_restorer_handles_placeholders_split_across_deltas() -> None:
    mapping = {"<EMAIL_1>": "ana@example.com", "<PHONE_12>": "+1 415 555 0132"}
    answer = "Write to <EMAIL_1> or call PHONE_12 (&lt;EMAIL_1&gt;). Use a < b and CAPS."
    restorer = StreamRestorer(mapping=mapping)

    pieces = [restorer.feed(ch) for ch in answer]
    pieces.append(restorer.flush())

    assert "".join(pieces) == restore(answer, mapping=mapping)
    assert "<EMAIL" not in "".join(pieces)
    # Ordinary text is not held back waiting for a placeholder.
    assert restorer.feed("plain words ") == "plain words "


def test_engine_is_built_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real_engine = redaction.AnalyzerEngine

    def counting_engine(*args: object, **kwargs: object) -> object:
        built.append(object())
        return real_engine(*args, **kwargs)

    monkeypatch.setattr(redaction, "_engines", None)
    monkeypatch.setattr(redaction, "AnalyzerEngine", counting_engine)
    barrier = threading.Barrier(6)
    seen: list[object] = []

    def use() -> None:
        barrier.wait()
        seen.append(redaction._get_engines())

    threads = [threading.Thread(target=use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(built) == 1
    assert len({id(engines) for engines in seen}) == 1


NO_NETWORK_SCRIPT = """
import socket, sys

attempts = []

def refuse(*args, **kwargs):
    attempts.append(args[:2])
    raise OSError("network is disabled in this test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

import spacy.cli
spacy.cli.download = refuse

from compliance.redaction import redact, warm_up

warm_up()
result = redact("Mail ana@example.org or +1 415 555 0132 from 10.0.0.12", terms=["Ana"])
print(result.text)
print("attempts", len(attempts), attempts)
sys.exit(1 if attempts else 0)
"""


def test_building_and_redacting_never_touch_the_network(tmp_path: Path) -> None:
    # A fresh process, so import-time and build-time work are covered too.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HOME": str(tmp_path)}
    env.pop("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", None)

    completed = subprocess.run(
        [sys.executable, "-c", NO_NETWORK_SCRIPT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Mail <EMAIL_1> or <PHONE_1> from <IP_1>" in completed.stdout
    assert "attempts 0" in completed.stdout
    assert not any(tmp_path.rglob("*")), "nothing may be cached under HOME"


def test_a_single_string_for_terms_is_refused() -> None:
    with pytest.raises(TypeError, match="lists of strings"):
        redact("Acme met us", terms="Acme")
