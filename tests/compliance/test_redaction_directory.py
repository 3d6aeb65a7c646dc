"""The directory redaction reads: every member's name, kept current as the
directory changes (sign-up, SSO, SCIM and the admin all save the member)."""

from __future__ import annotations

from django_tenants.utils import schema_context

from llm import privacy
from tenants.members.models import User


def redacted(text: str) -> str:
    return redacted_with_counts(text)[0]


def redacted_with_counts(text: str) -> tuple[str, dict[str, int]]:
    context = privacy.load_context()
    [message] = privacy.redact_messages(context, [{"role": "user", "content": text}])
    return message["content"], dict(context.counts)


def test_new_renamed_and_removed_members_are_seen_by_the_next_message(make_client) -> None:
    result = make_client("dir")
    with schema_context(result.client.schema_name):
        # Before: found by the Korean name model as someone's name.
        assert redacted_with_counts("김민수 과장님 연봉 정리") == (
            "<PERSON_1> 과장님 연봉 정리", {"PERSON": 1})

        member = User.objects.create_user(email="minsu@example.com", password="x" * 12,
                                          first_name="민수", last_name="김")
        assert redacted_with_counts("민수 씨 연봉 정리") == (
            "<PERSON_1> 씨 연봉 정리", {"MEMBER_NAME": 1})

        member.first_name, member.last_name = "太郎", "田中"
        member.save()
        assert redacted_with_counts("田中部長の件") == ("<PERSON_1>部長の件", {"MEMBER_NAME": 1})

        member.delete()
        # Still a name (the Japanese name model), no longer a member's.
        assert redacted_with_counts("田中部長の件")[1] == {"PERSON": 1}


def test_a_sign_in_does_not_rebuild_the_directory(make_client) -> None:
    from django.core.cache import cache

    from tenants.members.selectors import _DIRECTORY_VERSION_KEY, directory_names

    result = make_client("dir2")
    with schema_context(result.client.schema_name):
        member = User.objects.create_user(email="t@example.com", password="x" * 12,
                                          first_name="Priya", last_name="Patel")
        assert ("Priya", "Patel") in [(g, f) for _k, g, f in directory_names()]
        version = cache.get(_DIRECTORY_VERSION_KEY)

        member.save(update_fields=["last_login"])

        assert cache.get(_DIRECTORY_VERSION_KEY) == version


def test_member_names_can_be_switched_off(make_client) -> None:
    from compliance import selectors, services

    result = make_client("dir3")
    with schema_context(result.client.schema_name):
        User.objects.create_user(email="p@example.com", password="x" * 12,
                                 first_name="Priya", last_name="Patel")
        controls = selectors.get_data_controls()
        services.update_data_controls(
            controls=controls,
            redaction_entities=[e for e in controls.redaction_entities if e != "MEMBER_NAME"])

        assert redacted("Ask Priya Patel") == "Ask Priya Patel"
