"""Redaction inside Korean, Japanese and Chinese text (issue 13, part 1).

Values there are glued to particles and CJK punctuation ("…@example.com로",
"…4328입니다"), so these check every type with CJK neighbours, the Korean
and Japanese ids and their check digits, the look-alikes left alone, and
restoring placeholders that CJK text follows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance import redaction
from compliance.entities import (
    COMMON_ENTITIES,
    NATIONAL_ENTITIES,
    PLACEHOLDER_LABELS,
    SUPPORTED_ENTITIES,
    default_entities_for,
)
from compliance.redaction import CUSTOM_TERM, StreamRestorer, redact, restore

REPO_ROOT = Path(__file__).resolve().parents[2]

# A value per type that counts without a cue word, or with the cue (glued on,
# as written) when the type needs one.
VALUES = {
    "EMAIL_ADDRESS": ("", "jane.doe@example.com"),
    "PHONE_NUMBER": ("", "010-1234-5678"),
    "CREDIT_CARD": ("", "4111 1111 1111 1111"),
    "IBAN_CODE": ("", "DE89370400440532013000"),
    "IP_ADDRESS": ("", "203.0.113.42"),
    "US_ITIN": ("", "912-78-1234"),
    "US_SSN": ("", "219-09-9999"),
    "UK_NINO": ("", "AB 12 34 56 C"),
    "ES_NIF": ("", "12345678Z"),
    "IT_FISCAL_CODE": ("", "RSSMRA85T10A562S"),
    "PL_PESEL": ("", "44051401359"),
    "FI_PERSONAL_IDENTITY_CODE": ("", "131052-308T"),
    "KR_RRN": ("", "900101-1234568"),
    "KR_FRN": ("", "900101-5234567"),
    "KR_BRN": ("", "123-45-67891"),
    "KR_PASSPORT": ("", "M123A4567"),
    "KR_DRIVER_LICENSE": ("", "11-19-123456-12"),
    "JP_MY_NUMBER": ("", "1234 5678 9018"),
    "JP_PASSPORT": ("パスポート", "TK1234567"),
    "POSTAL_ADDRESS": ("", "〒105-0011"),
    "SECRET": ("", "ghp_" + "Ab3" * 12),
}
# Names are found by a directory or a model reading the sentence, not by a
# value's shape between any characters: tests/compliance/test_redaction_names.py.
NEEDS_A_DIRECTORY = {"MEMBER_NAME", "PERSON"}

# How the value sits in the sentence: "{}" is the value.
NEIGHBOURS = {
    "hangul particles": "값은{}입니다",
    "hangul after": "{}로 보내 주세요",
    "kana": "番号は{}です",
    "kanji": "号码{}已登记",
    "cjk punctuation": "「{}」、",
    "full-width brackets": "（{}）。",
    "ideographic space": "番号\u3000{}\u3000です",
}


def test_every_supported_type_has_a_cjk_example() -> None:
    assert set(VALUES) == set(SUPPORTED_ENTITIES) - NEEDS_A_DIRECTORY


@pytest.mark.parametrize("neighbours", list(NEIGHBOURS))
@pytest.mark.parametrize("entity_type", list(VALUES))
def test_every_type_is_found_between_cjk_characters(entity_type: str, neighbours: str) -> None:
    cue, value = VALUES[entity_type]
    text = cue + NEIGHBOURS[neighbours].format(value)

    result = redact(text)

    placeholder = f"<{PLACEHOLDER_LABELS[entity_type]}_1>"
    assert [(i.entity_type, i.original) for i in result.items] == [(entity_type, value)]
    assert result.text == cue + NEIGHBOURS[neighbours].format(placeholder)


def test_a_korean_message_with_everything_glued_on() -> None:
    text = (
        "김 대리님, 계약서는 jane.doe@example.com로 보내 주시고 주민등록번호는 "
        "900101-1234568입니다. 연락처는010-1234-5678이고 법인카드 4111 1111 1111 1111로 "
        "결제했습니다."
    )

    result = redact(text)

    assert result.text == (
        "김 대리님, 계약서는 <EMAIL_1>로 보내 주시고 주민등록번호는 <RRN_1>입니다. "
        "연락처는<PHONE_1>이고 법인카드 <CARD_1>로 결제했습니다."
    )
    assert restore(result.text, mapping=result.mapping) == text


@pytest.mark.parametrize(
    "phone",
    [
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        "011-123-4567",
        "02-123-4567",
        "02-1234-5678",
        "031-123-4567",
        "070-1234-5678",
        "+82 10-1234-5678",
        "+82-2-123-4567",
        "090-1234-5678",
        "09012345678",
        "03-1234-5678",
        "045-123-4567",
        "0466-12-3456",
        "03(1234)5678",
        "(03)1234-5678",
        "0120-123-456",
        "+81 90-1234-5678",
        "０９０－１２３４－５６７８",
        "138-1234-5678",
        "138 1234 5678",
        "+86 138 1234 5678",
        "010-12345678",
    ],
)
def test_korean_japanese_and_chinese_phone_formats_need_no_cue(phone: str) -> None:
    result = redact(f"고객이 남긴 번호는{phone}입니다.")

    assert result.text == "고객이 남긴 번호는<PHONE_1>입니다."
    assert result.items[0].original == phone


def test_bare_mobile_runs_count_with_a_cue_in_the_same_sentence_only() -> None:
    assert redact("手机13812345678随时联系。").text == "手机<PHONE_1>随时联系。"
    assert redact("会员号13812345678的客户。").items == []
    # A cue in the sentence before is no cue.
    assert redact("请给我打电话。会员号13812345678的客户。").items == []
    assert redact("전화 주세요. 고객번호 5516616053의 문의입니다.").items == []


class TestKoreanResidentRegistrationNumbers:
    def test_a_number_passing_the_old_check_digit_is_certain(self) -> None:
        [item] = redact("주민등록번호는 900101-1234568입니다.").items
        assert item.entity_type == "KR_RRN"

    def test_a_number_issued_since_october_2020_counts_without_the_check_digit(self) -> None:
        # 900101-1234567 fails the old check digit; new numbers end in random digits.
        result = redact("신규 발급 900101-1234567 확인 바랍니다.")

        assert [(i.entity_type, i.original) for i in result.items] == [
            ("KR_RRN", "900101-1234567")
        ]

    @pytest.mark.parametrize(
        "number",
        [
            "901301-1234568",  # month 13
            "900230-1234568",  # 30 February
            "300101-3234567",  # born in 2030
            "900101-9234567",  # no such 7th digit
        ],
    )
    def test_impossible_birth_dates_and_digits_are_left_alone(self, number: str) -> None:
        assert redact(f"참조 {number} 입니다.").items == []

    def test_thirteen_bare_digits_need_a_cue_word(self) -> None:
        assert redact("바코드 9001011234568 상품").items == []
        assert redact("주민번호9001011234568로 조회했습니다.").text == (
            "주민번호<RRN_1>로 조회했습니다."
        )
        assert redact("RRN은 9001011234568입니다.").text == "RRN은 <RRN_1>입니다."

    def test_foreigners_numbers_are_their_own_type(self) -> None:
        [item] = redact("외국인등록번호는 900101-5234567입니다.").items
        assert item.entity_type == "KR_FRN"

    def test_a_longer_digit_run_is_not_cut_into_an_rrn_or_a_hetu(self) -> None:
        assert redact("참조 211230-78488261 입니다.").items == []


def test_business_registration_numbers_are_checked() -> None:
    assert redact("사업자등록번호 123-45-67891로 발행").text == "사업자등록번호 <BRN_1>로 발행"
    # Wrong check digit: not a business registration number.
    assert redact("사업자등록번호 123-45-67890로 발행").items == []
    # Ten bare digits pass the check one time in ten: a cue is needed.
    assert redact("고객번호 1234567891의 문의").items == []
    assert redact("사업자번호는1234567891입니다.").text == "사업자번호는<BRN_1>입니다."


def test_korean_driver_licences_with_numeric_or_named_regions() -> None:
    result = redact("운전면허번호는 11-19-123456-12이고 새 면허는 서울 12-345678-90입니다.")

    assert [(i.entity_type, i.original) for i in result.items] == [
        ("KR_DRIVER_LICENSE", "11-19-123456-12"),
        ("KR_DRIVER_LICENSE", "서울 12-345678-90"),
    ]
    assert redact("참조 99-19-123456-12").items == []  # no region 99
    assert redact("송장번호 111912345612로 조회").items == []
    assert redact("면허번호 111912345612로 조회").text == "면허번호 <DRIVER_LICENSE_1>로 조회"


def test_korean_passports_old_form_needs_a_cue() -> None:
    assert redact("품번 M12345678 재고").items == []
    assert redact("여권번호는M12345678입니다.").text == "여권번호는<KR_PASSPORT_1>입니다."


class TestMyNumber:
    @pytest.mark.parametrize(
        ("first_eleven", "check"),
        # The official rule worked by hand: the digits from the right are
        # weighted 2,3,4,5,6,7,2,3,4,5,6; r = sum mod 11; 0 if r <= 1 else 11 - r.
        [
            ("12345678901", 8),  # 1,0,9,8,7,6,5,4,3,2,1 -> 212, r = 3
            ("98765432109", 3),  # 9,0,1,2,3,4,5,6,7,8,9 -> 228, r = 8
            ("11111111111", 8),  # 47, r = 3
            ("00000000006", 0),  # 12, r = 1
            ("00000000000", 0),  # 0, r = 0
        ],
    )
    def test_check_digit(self, first_eleven: str, check: int) -> None:
        assert redaction._JpMyNumberRecognizer.check_digit(first_eleven) == check

    def test_grouped_numbers_with_a_valid_check_digit_count_alone(self) -> None:
        assert redact("番号は1234-5678-9018です。").text == "番号は<MY_NUMBER_1>です。"
        assert redact("番号は1234-5678-9012です。").items == []

    def test_bare_numbers_need_a_cue(self) -> None:
        assert redact("追跡番号123456789018でご確認ください。").items == []
        assert redact("個人番号：123456789018を提出。").text == "個人番号：<MY_NUMBER_1>を提出。"

    def test_a_card_number_is_not_read_as_a_my_number(self) -> None:
        result = redact("カード4111 1111 1111 1111で決済。")

        assert [i.entity_type for i in result.items] == ["CREDIT_CARD"]


def test_japanese_passports_need_a_cue() -> None:
    assert redact("品番TK1234567の在庫").items == []
    assert redact("旅券番号TK1234567で予約").text == "旅券番号<JP_PASSPORT_1>で予約"


@pytest.mark.parametrize(
    "text",
    [
        "주문번호 20240315는 2024-03-15에 출고되었습니다. 견적 금액은 1,250,000원입니다.",
        "회의는 2025년 3월 14일 오후 3시에 열립니다. 재고는 120개 남았습니다.",
        "송장번호 123456789012로 조회 가능합니다. 회의실은 12층 1203호입니다.",
        "1990-2004년 자료를 정리했습니다. 버전 2.13.4로 업데이트했습니다. 할인율은 12.5%입니다.",
        "계좌 110-123-456789로 이체했습니다. 고객번호 5516616053의 문의입니다.",
        "注文番号12345678は2024-03-15に発送済みです。見積金額は128,000円（税別）です。",
        "東京本社の3階までお送りください。追跡番号736858981038。",
        "会員番号3783256748のお客様からの問い合わせです。社員番号123456は休暇中です。",
        "订单号12345678已于2024-03-15发货。报价为128,000元。快递单号976413238134。",
        "邮编100000，版本2.3.1已上线。会员号9657249208的客户来电咨询。",
    ],
)
def test_cjk_business_text_is_left_alone(text: str) -> None:
    result = redact(text)

    assert result.items == [], [(i.entity_type, i.original) for i in result.items]
    assert result.text == text


def test_custom_terms_next_to_cjk_text() -> None:
    result = redact(
        "Acme는 좋다. 김철수님이 왔다. 메일은 jo@x.com蓝鳍科技에서. subacme는 아니다.",
        terms=["Acme", "김철수", "蓝鳍科技"],
    )

    assert result.text == (
        "<TERM_1>는 좋다. <TERM_2>님이 왔다. 메일은 <EMAIL_1><TERM_3>에서. subacme는 아니다."
    )


def test_full_width_values_keep_their_spelling_and_share_placeholders() -> None:
    first = redact("ＴＥＬ：０９０－１２３４－５６７８、メール：ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ")
    assert first.text == "ＴＥＬ：<PHONE_1>、メール：<EMAIL_1>"
    assert first.mapping == {
        "<PHONE_1>": "０９０－１２３４－５６７８",
        "<EMAIL_1>": "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",
    }

    second = redact("090-1234-5678とtaro@example.jpです。", mapping=first.mapping)

    assert second.text == "<PHONE_1>と<EMAIL_1>です。"


def test_restore_with_cjk_right_after_a_placeholder() -> None:
    mapping = {"<EMAIL_1>": "jane@example.com", "<RRN_1>": "900101-1234568"}
    answer = "<EMAIL_1>로 보냈고 EMAIL_1에게도, RRN_1은 확인했습니다。[RRN_1]です。email_1은 그대로"

    assert restore(answer, mapping=mapping) == (
        "jane@example.com로 보냈고 jane@example.com에게도, 900101-1234568은 확인했습니다。"
        "900101-1234568です。email_1은 그대로"
    )


@pytest.mark.parametrize("piece", [1, 2, 3, 7])
def test_stream_restorer_with_cjk_after_placeholders(piece: int) -> None:
    mapping = {"<EMAIL_1>": "jane@example.com", "<PHONE_1>": "010-1234-5678"}
    answer = "연락처<PHONE_1>로 전화하고 EMAIL_1에게 메일 보내세요。<EMAIL_1>です。"
    restorer = StreamRestorer(mapping=mapping)

    shown = [restorer.feed(answer[i : i + piece]) for i in range(0, len(answer), piece)]
    shown.append(restorer.flush())

    assert "".join(shown) == restore(answer, mapping=mapping)
    assert "".join(shown) == (
        "연락처010-1234-5678로 전화하고 jane@example.com에게 메일 보내세요。jane@example.comです。"
    )
    # Hangul is not held back waiting for a placeholder.
    assert restorer.feed("감사합니다") == "감사합니다"


def test_a_shipped_pattern_that_cannot_be_made_cjk_aware_is_refused() -> None:
    assert redaction._cjk_boundaries(r"\b\d{3}\b") == (
        redaction._WORD_START + r"\d{3}" + redaction._WORD_END
    )
    with pytest.raises(ValueError, match="CJK-aware"):
        redaction._cjk_boundaries(r"(?<=\w)\d{3}")


class TestCountryDefaults:
    def test_korea_and_japan_get_the_common_kinds_and_their_own_ids(self) -> None:
        assert set(default_entities_for("KR")) == {*COMMON_ENTITIES, *NATIONAL_ENTITIES["KR"]}
        assert set(default_entities_for("jp")) == {*COMMON_ENTITIES, *NATIONAL_ENTITIES["JP"]}

    @pytest.mark.parametrize("country", ["US", "DE", "", None])
    def test_elsewhere_the_set_every_client_had_before(self, country: str | None) -> None:
        chosen = default_entities_for(country)

        assert set(chosen) == set(SUPPORTED_ENTITIES) - {
            *NATIONAL_ENTITIES["KR"],
            *NATIONAL_ENTITIES["JP"],
        }
        assert "US_SSN" in chosen and "KR_RRN" not in chosen

    def test_every_label_is_unique_and_every_type_has_one(self) -> None:
        labels = [PLACEHOLDER_LABELS[e] for e in [*SUPPORTED_ENTITIES, CUSTOM_TERM]
                  if e != "MEMBER_NAME"]  # names share PERSON, whoever found them
        assert len(set(labels)) == len(labels)


def test_the_entity_list_imports_without_presidio_spacy_or_django_settings() -> None:
    script = (
        "import sys\n"
        "from compliance import entities\n"
        "assert entities.SUPPORTED_ENTITIES['KR_RRN']\n"
        "heavy = [m for m in ('presidio_analyzer', 'spacy', 'django.conf') if m in sys.modules]\n"
        "print('heavy', heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "heavy []" in completed.stdout
