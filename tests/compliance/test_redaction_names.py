"""Names of the client's own people, postal addresses and pasted secrets: the
forms people type in Korean, Japanese and English, and what must be left alone."""

from __future__ import annotations

import pytest

from compliance.redaction import Member, StreamRestorer, redact, restore

MEMBERS = [
    Member("1", "민수", "김"),
    Member("2", "지원", "이"),
    Member("3", "太郎", "田中"),
    Member("4", "John", "Smith"),
    Member("5", "Priya", "Patel"),
    Member("6", "Will", "Young"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("김민수 과장님 연봉 조정안 정리해 줘", "<PERSON_1> 과장님 연봉 조정안 정리해 줘"),
        ("김 과장님께 전달해 주세요", "<PERSON_1> 과장님께 전달해 주세요"),
        ("김과장 보고서", "<PERSON_1>과장 보고서"),
        ("민수 씨가 맡아요", "<PERSON_1> 씨가 맡아요"),
        ("김민수가 왔고 김민수님은 갔다", "<PERSON_1>가 왔고 <PERSON_1>님은 갔다"),
        ("이과장 보고 끝", "<PERSON_1>과장 보고 끝"),
        ("지원 씨, 고마워요", "<PERSON_1> 씨, 고마워요"),
        ("田中太郎さんの件", "<PERSON_1>さんの件"),
        ("田中部長と太郎さん", "<PERSON_1>部長と<PERSON_1>さん"),
        ("営業部田中太郎より", "営業部<PERSON_1>より"),
        ("Draft a letter to John Smith today", "Draft a letter to <PERSON_1> today"),
        ("Mr. Smith and smith, john", "Mr. <PERSON_1> and <PERSON_1>"),
        ("Priya will call", "<PERSON_1> will call"),
    ],
)
def test_members_are_found_in_the_forms_people_write(text: str, expected: str) -> None:
    result = redact(text, entities=["MEMBER_NAME"], members=MEMBERS)

    assert result.text == expected


@pytest.mark.parametrize(
    ("text", "restored"),
    [
        ("김 과장님께 전달", "김민수 과장님께 전달"),
        ("민수 씨가 맡아요", "김민수 씨가 맡아요"),
        ("田中部長と太郎さん", "田中太郎部長と田中太郎さん"),
        ("Ask Mr. Smith", "Ask Mr. John Smith"),
        ("김민수가 왔다", "김민수가 왔다"),
    ],
)
def test_a_member_reads_back_as_their_full_name(text: str, restored: str) -> None:
    result = redact(text, entities=["MEMBER_NAME"], members=MEMBERS)

    assert restore(result.text, mapping=result.mapping) == restored


@pytest.mark.parametrize(
    "text",
    [
        "이 과장님께 보낼 자료",  # "to this manager": 이 before a spaced title
        "지원 사업 예산을 정리해 줘",  # 지원 (support) without a form of address
        "We will grant the young team more time",  # Will, Young: words
        "田中町の工場",  # a place, not 田中 with a title
        "John Deere tractors",  # a given name with another family name
    ],
)
def test_words_that_look_like_members_are_left_alone(text: str) -> None:
    assert redact(text, entities=["MEMBER_NAME"], members=MEMBERS).items == []


def test_the_same_member_is_the_same_placeholder_in_every_form_and_message() -> None:
    first = redact("김민수 과장님 연봉 정리", entities=["MEMBER_NAME"], members=MEMBERS)
    second = redact("김 과장님과 민수 씨, 그리고 이지원", entities=["MEMBER_NAME"],
                    members=MEMBERS, mapping=first.mapping)

    assert second.text == "<PERSON_1> 과장님과 <PERSON_1> 씨, 그리고 <PERSON_2>"
    assert second.mapping == {"<PERSON_1>": "김민수", "<PERSON_2>": "이지원"}


def test_without_a_directory_no_name_is_guessed() -> None:
    assert redact("김민수 과장님", entities=["MEMBER_NAME"]).items == []


@pytest.mark.parametrize(
    ("answer", "restored"),
    [
        ("<PERSON_1>이 승인했습니다", "김민수가 승인했습니다"),
        ("<PERSON_2>가 승인했습니다", "박철이 승인했습니다"),
        ("<PERSON_1>은 <PERSON_2>를 만났다", "김민수는 박철을 만났다"),
        ("<PERSON_2>으로 정했다", "박철로 정했다"),
        ("<PERSON_1>이었다", "김민수이었다"),  # the copula is not a particle
        ("<PERSON_3>는 OK", "John는 OK"),  # a Latin name: the model's choice stands
    ],
)
def test_korean_particles_after_a_restored_name_fit_it(answer: str, restored: str) -> None:
    mapping = {"<PERSON_1>": "김민수", "<PERSON_2>": "박철", "<PERSON_3>": "John"}

    assert restore(answer, mapping=mapping) == restored


def test_a_streamed_particle_fits_even_when_it_arrives_in_the_next_delta() -> None:
    restorer = StreamRestorer(mapping={"<PERSON_1>": "김민수"})

    shown = restorer.feed("네, <PERSON_1>") + restorer.feed("이 맡습니다") + restorer.flush()

    assert shown == "네, 김민수가 맡습니다"


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("田中さんの住所は東京都港区芝公園4-2-8です", "東京都港区芝公園4-2-8"),
        ("〒105-0011 東京都港区芝公園四丁目2番8号まで", "〒105-0011 東京都港区芝公園四丁目2番8号"),
        ("大阪府大阪市北区梅田1丁目1番3号に", "大阪府大阪市北区梅田1丁目1番3号"),
        ("서울특별시 강남구 테헤란로 152 강남파이낸스센터 20층으로",
         "서울특별시 강남구 테헤란로 152 강남파이낸스센터 20층"),
        ("경기도 성남시 분당구 판교역로 235번길 7에서", "경기도 성남시 분당구 판교역로 235번길 7"),
        ("역삼동 737-32번지로 보내", "역삼동 737-32번지"),
        ("우편번호는 06236입니다", "06236"),
        ("Draft a warning letter to him, 12 Baker Street.", "12 Baker Street"),
        ("Ship to 350 Fifth Avenue, Suite 3400, New York, NY 10118 now",
         "350 Fifth Avenue, Suite 3400, New York, NY 10118"),
        ("221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
        ("postcode SW1A 1AA please", "SW1A 1AA"),
        ("zip code 94103", "94103"),
    ],
)
def test_postal_addresses_and_codes_are_redacted(text: str, address: str) -> None:
    result = redact(text, entities=["POSTAL_ADDRESS"])

    assert [i.original for i in result.items] == [address]
    assert restore(result.text, mapping=result.mapping) == text


@pytest.mark.parametrize(
    "text",
    [
        "회의실로 3시까지 와 주세요",
        "서울로 2명 출장 갑니다",
        "We shipped 3 units on Main Street today",
        "The 5 Best Street Foods",
        "事業部3-2-1の計画と2022年度は3-4月",
        "Version 2.3 ships to 12 teams",
    ],
)
def test_look_alikes_of_addresses_are_left_alone(text: str) -> None:
    assert redact(text, entities=["POSTAL_ADDRESS"]).items == []


GITHUB_TOKEN = "ghp_" + "Ab3" * 12
SLACK_TOKEN = "xoxb-123456789012-123456789012-abcdefabcdefabcd"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        (f"token {GITHUB_TOKEN} ok", GITHUB_TOKEN),
        ("postgres://admin:s3cretPass@db.example.com:5432/app", "s3cretPass"),
        ("Server=db;User Id=sa;Password=Tr0ub4dor&3;", "Tr0ub4dor&3"),
        (f"slack {SLACK_TOKEN}", SLACK_TOKEN),
        ("비밀번호는 qwer1234!! 입니다", "qwer1234!!"),
        ("パスワード：hogehoge99です", "hogehoge99"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----",
         "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----"),
    ],
)
def test_pasted_secrets_are_redacted(text: str, secret: str) -> None:
    result = redact(text, entities=["SECRET"])

    assert [i.original for i in result.items] == [secret]
    assert secret not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "The password policy requires 12 chars",
        "Reset your password: click the link",
        "password = get_password()",
        "if password is None: raise ValueError",
        "비밀번호를 바꿔 주세요",
        "def login(user, password): return check(user, password)",
    ],
)
def test_prose_and_code_about_secrets_are_left_alone(text: str) -> None:
    assert redact(text, entities=["SECRET"]).items == []


def test_a_secret_wins_over_the_email_inside_a_url() -> None:
    result = redact("smtp://mailer:Pa55word!@mail.example.com",
                    entities=["SECRET", "EMAIL_ADDRESS"])

    assert "Pa55word!" not in result.text
    assert "<SECRET_1>" in result.text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("My SSN is 078051120.", "My SSN is <SSN_1>."),
        ("social security number 123456789", "social security number <SSN_1>"),
        ("text me on 2125550147", "text me on <PHONE_1>"),
        ("john.doe at example dot com", "<EMAIL_1>"),
        ("write to jane [at] example [dot] org", "write to <EMAIL_1>"),
        ("jane(at)example.co.uk", "<EMAIL_1>"),
        ("NI number: JG 10 37 65 A", "NI number: <NINO_1>"),
    ],
)
def test_other_spellings_of_known_types(text: str, redacted: str) -> None:
    assert redact(text).text == redacted


@pytest.mark.parametrize(
    "text",
    ["Order 123456789 shipped", "Ticket 2125550147 closed", "look at page dot five",
     "I work at Acme dot com"],
)
def test_other_spellings_need_their_cue(text: str) -> None:
    assert redact(text).items == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("고객 오건우 님이 환불을 요청했습니다.", ["오건우"]),
        ("배미숙 씨와 강지은 대리가 왔습니다.", ["배미숙", "강지은"]),
        ("取引先の井上和也様から連絡がありました。", ["井上和也"]),
        ("佐々木さんに伝えてください。", ["佐々木"]),
        ("Please ask Dr. Alan Turing and Mrs Chen.", ["Alan Turing", "Chen"]),
    ],
)
def test_other_peoples_names_are_found(text: str, names: list[str]) -> None:
    result = redact(text, entities=["PERSON"])

    assert [i.original for i in result.items] == names
    assert all(i.placeholder.startswith("<PERSON_") for i in result.items)


@pytest.mark.parametrize(
    "text",
    [
        "강남역 근처 카페에서 만나요. 삼성전자와 현대자동차 견적을 비교했습니다.",
        "山田うどんと吉野家の新商品。田中町の工場と東京本社で会議があります。",
        "Ford Motor and Johnson & Johnson renewed.",
    ],
)
def test_places_and_companies_are_not_people(text: str) -> None:
    assert redact(text, entities=["PERSON"]).items == []


def test_someone_else_with_a_members_given_name_is_not_the_member() -> None:
    result = redact("取引先の佐藤太郎様から", entities=["MEMBER_NAME", "PERSON"],
                    members=[Member("1", "太郎", "山本")])

    assert [(i.entity_type, i.original) for i in result.items] == [("PERSON", "佐藤太郎")]
