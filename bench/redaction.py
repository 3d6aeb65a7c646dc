"""Benchmark the PII redaction engine: recall, precision and latency.

Builds a seeded, labelled corpus of ~2,000-character business messages with
Faker (offline), each mixing ordinary prose, harmless look-alikes (dates,
order numbers, prices, versions) and known PII spans, then runs
``compliance.redaction.redact`` over it and prints one row per entity type.

A PII span counts as found when a single placeholder covers all of it. A
redaction counts as correct when it overlaps a labelled span of its own type;
one that overlaps another type's span is listed as "other type" (still
redacted, so no leak, but a wrong label), the rest are false alarms on
harmless text.

Korean, Japanese and Chinese messages are generated the same way (Faker's
ko_KR / ja_JP / zh_CN locales plus business sentences), with values glued to
particles and CJK punctuation the way people write ("…@example.com로",
"…4328입니다", "マイナンバーは…です。"), and scored per language.

    python bench/redaction.py [--messages 500] [--languages en,ko,ja,zh]
                              [--seed 7] [--show-misses]
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile  # noqa: E402
from compliance.redaction import CUSTOM_TERM, SUPPORTED_ENTITIES, redact, warm_up  # noqa: E402

# This corpus labels the pattern types; names, addresses and secrets have
# their own corpus (bench/redaction_people.py, printed after these tables).
PATTERN_TYPES = [e for e in SUPPORTED_ENTITIES
                 if e not in ("MEMBER_NAME", "PERSON", "POSTAL_ADDRESS", "SECRET")]
TARGET_LENGTH = 2000
RECALL_TARGET = 0.99
PRECISION_TARGET = 0.95
P95_TARGET_MS = 15.0
MESSAGES_PER_CONVERSATION = 10


@dataclass(frozen=True)
class Span:
    entity_type: str
    start: int
    end: int
    text: str


@dataclass
class Message:
    text: str
    spans: list[Span]


class Corpus:
    """Seeded generators for PII values, harmless look-alikes and prose."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for index, locale in enumerate(
            ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "fi_FI"]
        ):
            fake = Faker(locale)
            fake.seed_instance(seed * 100 + index)
            self.fakers[locale] = fake
        self.en = self.fakers["en_US"]
        # Client terms are fixed, not drawn from Faker: Faker's prose and company
        # names reuse its surnames, which would turn correct redactions into
        # unlabelled "false alarms".
        self.terms = [
            "Bluefin",
            "Project Kestrel",
            "Ingrid Vasquez-Oduya",
            "Halvorsen Maritime",
            "Nordwind GmbH",
            "Tamsin",
        ]
        self.pii: dict[str, Callable[[], str]] = {
            "EMAIL_ADDRESS": self.email,
            "PHONE_NUMBER": self.phone,
            "CREDIT_CARD": self.card,
            "IBAN_CODE": self.iban,
            "IP_ADDRESS": self.ip,
            "US_SSN": lambda: self.en.ssn(),
            "US_ITIN": lambda: self.en.itin(),
            "UK_NINO": self.nino,
            "ES_NIF": lambda: self.fakers["es_ES"].nif(),
            "IT_FISCAL_CODE": lambda: self.fakers["it_IT"].ssn(),
            "PL_PESEL": lambda: self.fakers["pl_PL"].pesel(),
            "FI_PERSONAL_IDENTITY_CODE": lambda: self.fakers["fi_FI"].ssn(),
            CUSTOM_TERM: self.term,
        }

    # --- PII values ---------------------------------------------------------

    def email(self) -> str:
        fake = self.fakers[self.rng.choice(["en_US", "en_GB", "de_DE", "fr_FR"])]
        value = self.rng.choice([fake.email, fake.company_email, fake.free_email])()
        if self.rng.random() < 0.2:
            first, last = self.en.first_name(), self.en.last_name()
            value = f"{first}.{last}@{fake.domain_name()}"
        return value

    def _digits(self, count: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(count))

    def phone(self) -> str:
        kind = self.rng.random()
        if kind < 0.5:
            locale = self.rng.choice(["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT"])
            return self.fakers[locale].phone_number()
        d = self._digits
        area = str(self.rng.randint(2, 9)) + d(2)
        return self.rng.choice(
            [
                f"({area}) {d(3)}-{d(4)}",
                f"({area}) 555-{d(4)}",
                f"{area}.{d(3)}.{d(4)}",
                f"{area}-{d(3)}-{d(4)}",
                f"+1 {area} {d(3)} {d(4)}",
                f"+1-{area}-{d(3)}-{d(4)}",
                f"+44 20 {d(4)} {d(4)}",
                f"+44 7{d(3)} {d(6)}",
                f"+49 30 {d(7)}",
                f"+49 (0) 89 {d(6)}",
                f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
                f"0049 30 {d(7)}",
                f"020 {d(4)} {d(4)}",
                f"+91 98{d(3)} {d(5)}",
            ]
        )

    def card(self) -> str:
        number = self.en.credit_card_number()
        style = self.rng.random()
        if len(number) == 16 and style < 0.4:
            sep = self.rng.choice([" ", "-"])
            return sep.join(number[i : i + 4] for i in range(0, 16, 4))
        return number

    def iban(self) -> str:
        locale = self.rng.choice(["de_DE", "fr_FR", "en_GB", "es_ES", "it_IT", "nl_NL"])
        number = self.fakers[locale].iban()
        if self.rng.random() < 0.4:
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        return number

    def ip(self) -> str:
        kind = self.rng.random()
        if kind < 0.4:
            return self.en.ipv4_public()
        if kind < 0.7:
            return self.en.ipv4_private()
        return self.en.ipv6()

    def nino(self) -> str:
        # Faker's en_GB NINOs all start with "ZZ", a prefix HMRC never issues
        # (and Presidio rightly rejects), so valid ones are built here.
        first = self.rng.choice("ABCEGHJKLMNOPRSTWXYZ")
        second = self.rng.choice("ABCEGHJKLMNPRSTWXYZ")
        while first + second in {"BG", "GB", "NK", "KN", "NT", "TN", "ZZ"}:
            second = self.rng.choice("ABCEGHJKLMNPRSTWXYZ")
        digits = self._digits(6)
        suffix = self.rng.choice("ABCD")
        if self.rng.random() < 0.5:
            return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        return f"{first}{second}{digits}{suffix}"

    def term(self) -> str:
        value = self.rng.choice(self.terms)
        return self.rng.choice([value, value.upper(), value.lower()])

    # --- sentences ----------------------------------------------------------

    PII_TEMPLATES: dict[str, list[str]] = {
        "EMAIL_ADDRESS": [
            "Please send the signed copy to {} before Friday.",
            "{} asked to be copied on the thread.",
            "Her new address is {}, the old one bounces.",
        ],
        "PHONE_NUMBER": [
            "You can reach the site manager on {} after nine.",
            "Call me at {} if the delivery is late.",
            "The customer left {} as a callback number.",
            "Contact: {}.",
        ],
        "CREDIT_CARD": [
            "The customer paid with card {} and wants a refund.",
            "Charge the deposit to {} as agreed.",
        ],
        "IBAN_CODE": [
            "Wire the balance to {} by the end of the month.",
            "Their account is {}, please double-check it.",
        ],
        "IP_ADDRESS": [
            "The failed logins came from {} overnight.",
            "Whitelist {} on the staging firewall.",
        ],
        "US_SSN": [
            "The applicant's SSN is {} per the form.",
            "Payroll has {} on file for him.",
        ],
        "US_ITIN": ["Her ITIN {} was issued last year.", "The W-7 came back with {}."],
        "UK_NINO": ["His National Insurance number is {}.", "HR recorded {} on the contract."],
        "ES_NIF": ["El NIF del proveedor es {}.", "The Madrid supplier uses tax id {}."],
        "IT_FISCAL_CODE": ["Codice fiscale: {}.", "The Milan client gave {} for the invoice."],
        "PL_PESEL": ["PESEL {} belongs to the new hire.", "The Warsaw office sent {}."],
        "FI_PERSONAL_IDENTITY_CODE": [
            "Henkilötunnus {} on the lease.",
            "The Helsinki tenant is {}.",
        ],
        CUSTOM_TERM: [
            "The update from {} was positive.",
            "We still owe {} a proposal.",
            "Status for {}: on track.",
        ],
    }

    def harmless(self) -> str:
        """One sentence of look-alikes that must stay as they are."""
        en, rng, d = self.en, self.rng, self._digits
        n = rng.randint
        version = f"{n(1, 9)}.{n(0, 30)}.{n(0, 20)}"
        build = f"{n(1, 4)}.{n(0, 9)}.{n(0, 9)}.{n(0, 99)}"
        price = f"${n(1, 99)},{d(3)}.{d(2)}"
        near_miss = rng.choice(["bluefins", "Bluefinch", "Kestrels", "Tamsinne"])
        return rng.choice(
            [
                lambda: f"Order {d(8)} shipped on {en.date()} and should arrive by {en.date()}.",
                lambda: f"Invoice INV-{n(2019, 2026)}-{d(5)} totals {price}.",
                lambda: f"PO {rng.choice(['45', '47'])}{d(8)} covers {n(2, 900)} units.",
                lambda: f"Unit price {n(1, 99)}.{d(2)} EUR, discount {n(1, 30)}%.",
                lambda: f"We upgraded to version {version} last week.",
                lambda: f"Build {build} fixed the crash.",
                lambda: f"The meeting moved to {en.date('%m/%d/%Y')} at {en.time('%H:%M')}.",
                lambda: f"Ticket #{d(6)} was reopened on {en.date('%d.%m.%Y')}.",
                lambda: f"Revenue grew {n(1, 40)}.{n(0, 9)}% to ${n(1, 900)}.{n(1, 9)}M.",
                lambda: f"Ship to {en.street_address()}, {en.city()} {en.zipcode()}.",
                lambda: f"Reference {d(4)}-{d(4)}-{d(2)} is the customs declaration.",
                lambda: f"Tracking number {d(12)} is with the courier.",
                lambda: f"Account {d(3)}-{d(5)} in the ERP, cost centre {d(4)}.",
                lambda: f"Commit {en.sha1()[:10]} changed {n(2, 80)} files.",
                lambda: f"The batch ran from {en.time()} to {en.time()} on {en.date()}.",
                lambda: f"SKU {en.bothify('??-####-##').upper()} is back in week {n(1, 52)}.",
                lambda: f"Room {n(100, 999)}, floor {n(1, 30)}, seats {n(4, 40)}.",
                # Near misses for the client terms: longer words containing them.
                lambda: f"The {near_miss} exhibit opens at {en.time('%H:%M')}.",
            ]
        )()

    def prose(self) -> str:
        en = self.en
        return self.rng.choice(
            [
                lambda: en.paragraph(nb_sentences=3),
                lambda: f"Our goal this quarter is to {en.bs()}.",
                lambda: f"{en.company()} pitched a {en.catch_phrase().lower()}.",
                lambda: en.sentence(nb_words=14),
            ]
        )()

    def message(self) -> Message:
        text = ""
        spans: list[Span] = []
        while len(text) < TARGET_LENGTH - 120:
            roll = self.rng.random()
            if roll < 0.35:
                entity_type = self.rng.choice(list(self.pii))
                value = self.pii[entity_type]()
                template = self.rng.choice(self.PII_TEMPLATES[entity_type])
                before, after = template.split("{}")
                start = len(text) + len(before) + (1 if text else 0)
                text += (" " if text else "") + before + value + after
                spans.append(Span(entity_type, start, start + len(value), value))
            elif roll < 0.6:
                text += (" " if text else "") + self.harmless()
            else:
                text += (" " if text else "") + self.prose()
        return Message(text=text, spans=spans)


# --- Korean, Japanese and Chinese messages ----------------------------------------


def _luhn_complete(partial: str) -> str:
    total = 0
    for index, ch in enumerate(reversed(partial)):
        digit = int(ch)
        if index % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return partial + str((10 - total % 10) % 10)


class CjkCorpus(Corpus):
    """Messages written the way Korean, Japanese and Chinese employees write:
    no spaces in ja/zh, particles glued to the value ("…@example.com로",
    "…4328입니다"), CJK punctuation around it, full-width digits now and
    then. Every supported type appears; a language's own ids only in it.

    Templates marked ``cue`` carry a word such as "주민번호" or "电话";
    values that are ambiguous without one (bare digit runs, old passports)
    are only put in those, the way people write them.
    """

    SEPARATOR = {"ko": " ", "ja": "", "zh": ""}
    LOCALES = {"ko": "ko_KR", "ja": "ja_JP", "zh": "zh_CN"}
    TERMS = {
        "ko": ["한빛솔루션", "프로젝트 누리별", "Bluefin"],
        "ja": ["桜井ロジスティクス", "プロジェクト蒼穹", "Bluefin"],
        "zh": ["蓝鳍科技", "星河项目", "Bluefin"],
    }
    OWN_IDS = {
        "ko": ["KR_RRN", "KR_FRN", "KR_BRN", "KR_PASSPORT", "KR_DRIVER_LICENSE"],
        "ja": ["JP_MY_NUMBER", "JP_PASSPORT"],
        "zh": [],
    }

    # (template, needs a cue word) per type; "{}" is the value.
    TEMPLATES: dict[str, dict[str, list[tuple[str, bool]]]] = {
        "ko": {
            "EMAIL_ADDRESS": [
                ("자세한 내용은 {}로 보내 주세요.", False),
                ("담당자 메일 주소는 {}입니다.", False),
                ("{}에게 회신 부탁드립니다.", False),
                ("메일({})로 연락 주시면 됩니다.", False),
                ("문의처:{} (평일 9시~18시)", False),
            ],
            "PHONE_NUMBER": [
                ("연락처는 {}입니다.", True),
                ("급한 일은 {}로 전화 주세요.", True),
                ("{}(사무실)로 연락 바랍니다.", False),
                ("담당자 휴대폰:{} 입니다.", True),
                ("고객님이 {}번으로 다시 걸어 달라고 하셨습니다.", False),
            ],
            "CREDIT_CARD": [
                ("법인카드 {}로 결제했습니다.", True),
                ("카드번호는 {}입니다.", True),
                ("환불은 {}로 처리해 주세요.", False),
            ],
            "IBAN_CODE": [
                ("해외 송금 계좌는 {}입니다.", False),
                ("IBAN {}로 입금 부탁드립니다.", False),
            ],
            "IP_ADDRESS": [
                ("접속 IP는 {}였습니다.", False),
                ("{}에서 로그인 시도가 있었습니다.", False),
            ],
            "US_SSN": [
                ("미국 직원의 SSN은 {}입니다.", True),
                ("급여팀에 {}가 등록되어 있습니다.", False),
            ],
            "US_ITIN": [("ITIN {}을 등록했습니다.", True), ("W-7 결과 {}가 나왔습니다.", False)],
            "UK_NINO": [("영국 직원의 NI 번호는 {}입니다.", False)],
            "ES_NIF": [("스페인 거래처 NIF는 {}입니다.", False)],
            "IT_FISCAL_CODE": [("이탈리아 고객의 codice fiscale은 {}입니다.", False)],
            "PL_PESEL": [("폴란드 직원 PESEL {}을 확인했습니다.", False)],
            "FI_PERSONAL_IDENTITY_CODE": [("핀란드 직원 신원코드는 {}입니다.", False)],
            "KR_RRN": [
                ("주민등록번호는 {}입니다.", True),
                ("신청자 {} 확인 바랍니다.", False),
                ("주민번호{}로 조회했습니다.", True),
                ("본인 확인용 {}(주민등록번호)", True),
            ],
            "KR_FRN": [
                ("외국인등록번호는 {}입니다.", True),
                ("새로 온 직원의 등록번호 {}를 받았습니다.", False),
            ],
            "KR_BRN": [
                ("사업자등록번호 {}로 세금계산서 발행 부탁드립니다.", True),
                ("거래처 {}의 세금계산서가 도착했습니다.", False),
                ("사업자번호는{}입니다.", True),
            ],
            "KR_PASSPORT": [
                ("여권번호는 {}입니다.", True),
                ("출장자 여권 {} 사본 첨부합니다.", True),
                ("{}로 항공권을 예약했습니다.", False),
            ],
            "KR_DRIVER_LICENSE": [
                ("운전면허번호는 {}입니다.", True),
                ("면허번호 {} 확인 완료했습니다.", True),
            ],
            CUSTOM_TERM: [
                ("{}의 진행 상황을 공유드립니다.", False),
                ("{} 건은 다음 주에 마무리됩니다.", False),
                ("{}와 미팅이 잡혔습니다.", False),
            ],
        },
        "ja": {
            "EMAIL_ADDRESS": [
                ("詳細は{}までご連絡ください。", False),
                ("担当者のメールアドレスは{}です。", False),
                ("{}へ返信をお願いします。", False),
                ("メール：{}（営業時間内）", False),
            ],
            "PHONE_NUMBER": [
                ("連絡先は{}です。", True),
                ("至急の場合は{}にお電話ください。", True),
                ("代表番号（{}）", False),
                ("携帯{}までご連絡ください。", True),
                ("お客様から{}に折り返してほしいとのことです。", False),
            ],
            "CREDIT_CARD": [
                ("カード番号{}で決済しました。", True),
                ("返金は{}宛てに処理してください。", False),
            ],
            "IBAN_CODE": [("海外送金先は{}です。", False), ("IBAN：{}、名義は会社です。", False)],
            "IP_ADDRESS": [
                ("アクセス元IPは{}でした。", False),
                ("{}から不正ログインがありました。", False),
            ],
            "US_SSN": [
                ("米国社員のSSNは{}です。", True),
                ("給与課に{}が登録されています。", False),
            ],
            "US_ITIN": [("ITIN：{}を登録しました。", True), ("W-7の結果は{}でした。", False)],
            "UK_NINO": [("英国社員のNI番号は{}です。", False)],
            "ES_NIF": [("スペインの取引先のNIFは{}です。", False)],
            "IT_FISCAL_CODE": [("イタリアの顧客のcodice fiscaleは{}です。", False)],
            "PL_PESEL": [("ポーランドの社員のPESELは{}です。", False)],
            "FI_PERSONAL_IDENTITY_CODE": [("フィンランドの社員の個人識別コードは{}です。", False)],
            "JP_MY_NUMBER": [
                ("マイナンバーは{}です。", True),
                ("個人番号{}を提出しました。", True),
                ("{}（個人番号）", True),
                ("新入社員の{}を年末調整に使います。", False),
            ],
            "JP_PASSPORT": [
                ("旅券番号は{}です。", True),
                ("パスポート番号{}で予約しました。", True),
            ],
            CUSTOM_TERM: [
                ("{}の進捗を共有します。", False),
                ("{}との打ち合わせは来週です。", False),
                ("「{}」の件、承知しました。", False),
            ],
        },
        "zh": {
            "EMAIL_ADDRESS": [
                ("请把合同发到{}。", False),
                ("联系邮箱：{}。", False),
                ("{}的邮件已收到。", False),
            ],
            "PHONE_NUMBER": [
                ("联系电话：{}。", True),
                ("请拨打{}联系我。", True),
                ("手机{}随时可以联系。", True),
                ("客户留下了{}作为回拨号码。", False),
            ],
            "CREDIT_CARD": [
                ("用信用卡{}付款了。", True),
                ("退款请退回{}。", False),
            ],
            "IBAN_CODE": [("海外汇款账户是{}。", False)],
            "IP_ADDRESS": [("登录来自{}。", False), ("IP地址{}已被封锁。", False)],
            "US_SSN": [("美国员工的SSN是{}。", True), ("工资部门登记了{}。", False)],
            "US_ITIN": [("ITIN：{}已登记。", True), ("W-7的结果是{}。", False)],
            "UK_NINO": [("英国员工的NI号码是{}。", False)],
            "ES_NIF": [("西班牙供应商的NIF是{}。", False)],
            "IT_FISCAL_CODE": [("意大利客户的codice fiscale是{}。", False)],
            "PL_PESEL": [("波兰员工的PESEL是{}。", False)],
            "FI_PERSONAL_IDENTITY_CODE": [("芬兰员工的身份代码是{}。", False)],
            CUSTOM_TERM: [
                ("{}的进展顺利。", False),
                ("我们还欠{}一份方案。", False),
                ("关于「{}」的会议改到周五。", False),
            ],
        },
    }

    PROSE_KO = [
        "이번 분기 목표는 고객 만족도를 높이는 것입니다.",
        "{company}와의 계약 조건을 다시 검토해야 합니다.",
        "{name} 님이 다음 주 월요일부터 출근합니다.",
        "회의록은 공유 드라이브에 올려 두었습니다.",
        "예산 승인 절차가 생각보다 오래 걸리고 있습니다.",
        "신제품 출시 일정은 아직 확정되지 않았습니다.",
        "고객 문의가 지난달보다 크게 늘었습니다.",
        "보안 점검 결과는 내일 오전에 공유하겠습니다.",
        "{city} 지사에서 교육을 진행할 예정입니다.",
        "협력사 평가 기준을 새로 정리했습니다.",
        "재택근무 정책에 대한 의견을 모으고 있습니다.",
        "이 건은 팀장님 확인 후 진행하겠습니다.",
        "물류 비용이 예상보다 많이 나왔습니다.",
        "{name} 님께서 요청하신 자료를 첨부합니다.",
    ]

    def __init__(self, seed: int, language: str) -> None:
        super().__init__(seed)
        self.language = language
        self.local = Faker(self.LOCALES[language])
        self.local.seed_instance(seed * 1000 + len(language) * 17 + ord(language[0]))
        self.terms = list(self.TERMS[language])
        western = [
            "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
            "US_SSN", "US_ITIN", "UK_NINO", "ES_NIF", "IT_FISCAL_CODE", "PL_PESEL",
            "FI_PERSONAL_IDENTITY_CODE",
        ]
        own = {
            "KR_RRN": lambda: self.rrn(foreign=False),
            "KR_FRN": lambda: self.rrn(foreign=True),
            "KR_BRN": self.brn,
            "KR_PASSPORT": self.kr_passport,
            "KR_DRIVER_LICENSE": self.kr_driver_license,
            "JP_MY_NUMBER": self.my_number,
            "JP_PASSPORT": self.jp_passport,
        }
        # (value, needs a cue word)
        self.values: dict[str, Callable[[], tuple[str, bool]]] = {
            **{e: self._western(e) for e in western},
            **{e: own[e] for e in self.OWN_IDS[language]},
            "PHONE_NUMBER": self.local_phone,
            CUSTOM_TERM: lambda: (self.rng.choice(self.terms), False),
        }

    def _western(self, entity_type: str) -> Callable[[], tuple[str, bool]]:
        def make() -> tuple[str, bool]:
            value = self.pii[entity_type]()
            needs_cue = entity_type == "CREDIT_CARD" and (
                sum(ch.isdigit() for ch in value) < 13 or value.startswith("0")
            )
            return value, needs_cue

        return make

    def _full_width(self, value: str) -> str:
        # Japanese and Chinese forms sometimes use full-width digits and dashes.
        return value.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})

    # --- values -------------------------------------------------------------

    def local_phone(self) -> tuple[str, bool]:
        d, rng = self._digits, self.rng
        if self.language == "ko":
            value, cue = rng.choice(
                [
                    (f"010-{d(4)}-{d(4)}", False),
                    (f"010-{d(4)}-{d(4)}", False),
                    (f"010{d(8)}", False),
                    (f"010 {d(4)} {d(4)}", False),
                    (self.local.phone_number(), False),
                    (f"02-{d(3)}-{d(4)}", False),
                    (f"02-{d(4)}-{d(4)}", False),
                    (f"031-{d(3)}-{d(4)}", False),
                    (f"070-{d(4)}-{d(4)}", False),
                    (f"+82 10-{d(4)}-{d(4)}", False),
                    (f"+82-2-{d(3)}-{d(4)}", False),
                    (f"1588-{d(4)}", True),
                ]
            )
        elif self.language == "ja":
            value, cue = rng.choice(
                [
                    (f"090-{d(4)}-{d(4)}", False),
                    (f"080-{d(4)}-{d(4)}", False),
                    (f"090{d(8)}", False),
                    (f"03-{d(4)}-{d(4)}", False),
                    (f"06-{d(4)}-{d(4)}", False),
                    (f"045-{d(3)}-{d(4)}", False),
                    (f"0466-{d(2)}-{d(4)}", False),
                    (f"03({d(4)}){d(4)}", False),
                    (f"(03){d(4)}-{d(4)}", False),
                    (f"0120-{d(3)}-{d(3)}", False),
                    (f"+81 90-{d(4)}-{d(4)}", False),
                    (f"+81-3-{d(4)}-{d(4)}", False),
                    (self._full_width(f"090-{d(4)}-{d(4)}"), False),
                ]
            )
        else:
            mobile = f"1{rng.choice('3456789')}{d(9)}"
            value, cue = rng.choice(
                [
                    (mobile, True),
                    (mobile, True),
                    (f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", False),
                    (f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", False),
                    (f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}", False),
                    (f"010-{d(8)}", False),
                    (f"021-{d(8)}", False),
                    (f"0755-{d(8)}", False),
                    (f"+86-10-{d(8)}", False),
                ]
            )
        return value, cue

    def rrn(self, *, foreign: bool) -> tuple[str, bool]:
        born = self.local.date_of_birth(minimum_age=1, maximum_age=80)
        base = 5 if foreign else 1
        gender = base + (2 if born.year >= 2000 else 0) + self.rng.randint(0, 1)
        front = born.strftime("%y%m%d") + str(gender)
        if self.rng.random() < 0.4:
            # Issued since October 2020: six random digits, no check digit.
            number = front + self._digits(6)
        else:
            first12 = front + f"{self.rng.randint(0, 95):02d}" + self._digits(3)
            weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
            total = sum(int(ch) * w for ch, w in zip(first12, weights, strict=True))
            number = first12 + str(((13 if foreign else 11) - total % 11) % 10)
        if self.rng.random() < 0.2:
            return number, True
        return f"{number[:6]}-{number[6:]}", False

    def brn(self) -> tuple[str, bool]:
        first9 = str(self.rng.randint(101, 999)) + self._digits(6)
        digits = [int(ch) for ch in first9]
        keys = [1, 3, 7, 1, 3, 7, 1, 3, 5]
        total = sum(a * b for a, b in zip(digits[:8], keys[:8], strict=True))
        total += digits[8] * 5 + digits[8] * 5 // 10
        number = first9 + str((10 - total % 10) % 10)
        if self.rng.random() < 0.2:
            return number, True
        return f"{number[:3]}-{number[3:5]}-{number[5:]}", False

    def kr_passport(self) -> tuple[str, bool]:
        letter = self.rng.choice("MSROD")
        if self.rng.random() < 0.75:
            return f"{letter}{self._digits(3)}{self.rng.choice(string.ascii_uppercase)}"\
                f"{self._digits(4)}", False
        return f"{letter}{self._digits(8)}", True

    def kr_driver_license(self) -> tuple[str, bool]:
        year = f"{self.rng.randint(0, 99):02d}"
        tail = f"{self._digits(6)}-{self._digits(2)}"
        roll = self.rng.random()
        if roll < 0.5:
            region = self.rng.choice(["11", "12", "13", "14", "15", "16", "17", "18", "19",
                                      "20", "21", "22", "23", "24", "25", "26", "28"])
            return f"{region}-{year}-{tail}", True
        if roll < 0.85:
            region = self.rng.choice(["서울", "부산", "경기", "강원", "충북", "대구", "인천"])
            return f"{region} {year}-{tail}", True
        region = self.rng.choice(["11", "13", "21", "28"])
        return f"{region}{year}{tail.replace('-', '')}", True

    def my_number(self) -> tuple[str, bool]:
        first11 = self._digits(11)
        total = sum(
            int(ch) * (n + 1 if n <= 6 else n - 5)
            for n, ch in enumerate(reversed(first11), start=1)
        )
        remainder = total % 11
        number = first11 + str(0 if remainder <= 1 else 11 - remainder)
        roll = self.rng.random()
        if roll < 0.5:
            return f"{number[:4]} {number[4:8]} {number[8:]}", False
        if roll < 0.75:
            return f"{number[:4]}-{number[4:8]}-{number[8:]}", False
        return number, True

    def jp_passport(self) -> tuple[str, bool]:
        return f"{self.rng.choice(['TK', 'TR', 'TS', 'TZ', 'MU', 'MZ'])}{self._digits(7)}", True

    # --- sentences ----------------------------------------------------------

    def harmless(self) -> str:
        local, rng, d = self.local, self.rng, self._digits
        n = rng.randint
        day = local.date()
        version = f"{n(1, 9)}.{n(0, 30)}.{n(0, 20)}"
        if self.language == "ko":
            options = [
                lambda: f"주문번호 {d(8)}는 {day}에 출고되었습니다.",
                lambda: f"견적 금액은 {n(1, 900) * 10000:,}원(부가세 별도)입니다.",
                lambda: f"회의는 {n(2024, 2026)}년 {n(1, 12)}월 {n(1, 28)}일 "
                f"오후 {n(1, 6)}시에 열립니다.",
                lambda: f"{local.address()}로 배송해 주세요.",
                lambda: f"송장번호 {d(12)}로 조회 가능합니다.",
                lambda: f"재고는 {n(2, 900)}개 남았습니다.",
                lambda: f"버전 {version}로 업데이트했습니다.",
                lambda: f"{day} 기준 매출은 {n(1, 99)}억 원입니다.",
                lambda: f"사번 {d(6)}번 직원이 휴가 중입니다.",
                lambda: f"우편번호 {d(5)}, {n(101, 120)}동 {n(101, 2504)}호입니다.",
                lambda: f"고객번호 {d(10)}의 문의입니다.",
                lambda: f"계좌 110-{d(3)}-{d(6)}로 이체했습니다.",
                lambda: f"{n(1990, 2010)}-{n(2011, 2024)}년 자료를 정리했습니다.",
                lambda: f"할인율은 {n(1, 40)}.{n(0, 9)}%입니다.",
                lambda: f"티켓 #{d(6)}이 {day}에 다시 열렸습니다.",
            ]
        elif self.language == "ja":
            options = [
                lambda: f"注文番号{d(8)}は{day}に発送済みです。",
                lambda: f"見積金額は{n(1, 900) * 1000:,}円（税別）です。",
                lambda: f"会議は{n(2024, 2026)}年{n(1, 12)}月{n(1, 28)}日{n(9, 18)}時からです。",
                lambda: f"〒{d(3)}-{d(4)} {local.address()}までお送りください。",
                lambda: f"追跡番号{d(12)}でご確認いただけます。",
                lambda: f"在庫は残り{n(2, 900)}個です。",
                lambda: f"バージョン{version}に更新しました。",
                lambda: f"社員番号{d(6)}の方は休暇中です。",
                lambda: f"請求書番号INV-{n(2019, 2026)}-{d(5)}を発行しました。",
                lambda: f"売上は前年比{n(1, 40)}.{n(0, 9)}%増の{n(1, 99)}億円でした。",
                lambda: f"口座番号{d(7)}へ振り込みました。",
                lambda: f"{day}時点の集計です。",
                lambda: f"会員番号{d(10)}のお客様からの問い合わせです。",
            ]
        else:
            options = [
                lambda: f"订单号{d(8)}已于{day}发货。",
                lambda: f"报价为{n(1, 900) * 1000:,}元。",
                lambda: f"会议定于{n(2024, 2026)}年{n(1, 12)}月{n(1, 28)}日{n(9, 18)}点。",
                lambda: f"快递单号{d(12)}。",
                lambda: f"邮编{d(6)}，地址：{local.address()}。",
                lambda: f"版本{version}已上线。",
                lambda: f"库存还剩{n(2, 900)}件。",
                lambda: f"发票号{d(8)}已开具。",
                lambda: f"营收同比增长{n(1, 40)}.{n(0, 9)}%。",
                lambda: f"工号{d(6)}的同事在休假。",
                lambda: f"会员号{d(10)}的客户来电咨询。",
            ]
        return rng.choice(options)()

    def prose(self) -> str:
        local = self.local
        if self.language == "ko":
            return self.rng.choice(self.PROSE_KO).format(
                company=local.company(), name=local.name(), city=local.city()
            )
        text = self.rng.choice(
            [
                lambda: local.paragraph(nb_sentences=3),
                lambda: local.sentence(nb_words=14),
                lambda: f"{local.company()}{local.sentence(nb_words=8)}",
            ]
        )()
        # Faker's zh_CN sentences end with an ASCII ".", Chinese uses "。".
        return text.replace(".", "。")

    def message(self) -> Message:
        separator = self.SEPARATOR[self.language]
        templates = self.TEMPLATES[self.language]
        text = ""
        spans: list[Span] = []
        while len(text) < TARGET_LENGTH - 120:
            roll = self.rng.random()
            if text:
                text += separator
            if roll < 0.35:
                entity_type = self.rng.choice(list(self.values))
                value, needs_cue = self.values[entity_type]()
                fitting = [t for t, cue in templates[entity_type] if cue or not needs_cue]
                before, after = self.rng.choice(fitting).split("{}")
                start = len(text) + len(before)
                text += before + value + after
                spans.append(Span(entity_type, start, start + len(value), value))
            elif roll < 0.6:
                text += self.harmless()
            else:
                text += self.prose()
        return Message(text=text, spans=spans)


@dataclass
class Scores:
    gold: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    predicted: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)
    other_type: Counter = field(default_factory=Counter)
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str, str]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)


def evaluate(messages: list[Message], terms: list[str]) -> Scores:
    scores = Scores()
    mapping: dict[str, str] = {}
    for index, message in enumerate(messages):
        if index % MESSAGES_PER_CONVERSATION == 0:
            mapping = {}
        t0, c0 = time.perf_counter(), time.thread_time()
        result = redact(message.text, terms=terms, mapping=mapping, entities=PATTERN_TYPES)
        scores.latencies_ms.append((time.perf_counter() - t0) * 1000)
        scores.cpu_ms.append((time.thread_time() - c0) * 1000)
        scores.chars.append(len(message.text))
        mapping = result.mapping

        for span in message.spans:
            scores.gold[span.entity_type] += 1
            if any(i.start <= span.start and i.end >= span.end for i in result.items):
                scores.found[span.entity_type] += 1
            else:
                context = message.text[max(0, span.start - 30) : span.end + 10]
                scores.misses.append((span.entity_type, span.text, context))
        for item in result.items:
            scores.predicted[item.entity_type] += 1
            overlapping = [s for s in message.spans if s.start < item.end and item.start < s.end]
            if any(s.entity_type == item.entity_type for s in overlapping):
                scores.correct[item.entity_type] += 1
            elif overlapping:
                scores.other_type[item.entity_type] += 1
            else:
                context = message.text[max(0, item.start - 30) : item.end + 10]
                scores.false_alarms.append((item.entity_type, item.original, context))
    return scores


def report(language: str, scores: Scores, show_misses: bool) -> list[str]:
    """Print one language's table; return the targets it misses."""
    print(
        f"[{language}] {len(scores.chars)} messages, mean "
        f"{statistics.mean(scores.chars):.0f} chars"
    )
    header = f"{'entity type':<27} {'spans':>6} {'recall':>8} {'redacted':>9} {'precision':>10} {'other type':>10}"  # noqa: E501
    print(header)
    print("-" * len(header))
    failures: list[str] = []
    rows = [e for e in [*SUPPORTED_ENTITIES, CUSTOM_TERM]
            if scores.gold[e] or scores.predicted[e]]
    for entity_type in rows:
        gold, predicted = scores.gold[entity_type], scores.predicted[entity_type]
        recall = scores.found[entity_type] / gold if gold else float("nan")
        precision = scores.correct[entity_type] / predicted if predicted else float("nan")
        print(
            f"{entity_type:<27} {gold:>6} {recall:>8.2%} {predicted:>9} "
            f"{precision:>10.2%} {scores.other_type[entity_type]:>10}"
        )
        if gold and recall < RECALL_TARGET:
            failures.append(f"{language} {entity_type} recall {recall:.2%} < {RECALL_TARGET:.0%}")
        if predicted and precision < PRECISION_TARGET:
            failures.append(
                f"{language} {entity_type} precision {precision:.2%} < {PRECISION_TARGET:.0%}"
            )
    total_gold, total_found = sum(scores.gold.values()), sum(scores.found.values())
    total_pred, total_correct = sum(scores.predicted.values()), sum(scores.correct.values())
    print("-" * len(header))
    print(
        f"{'all':<27} {total_gold:>6} {total_found / total_gold:>8.2%} {total_pred:>9} "
        f"{total_correct / max(1, total_pred):>10.2%} {sum(scores.other_type.values()):>10}"
    )
    latencies = scores.latencies_ms
    p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
    # Latency is per message; the target is per 2,000 characters.
    per_2k = [ms * 2000 / chars for ms, chars in zip(latencies, scores.chars, strict=True)]
    p95_2k = percentile(per_2k, 95)
    # CPU time of the redacting thread: what the work costs when other
    # processes share the cores (wall time then includes waiting for one).
    cpu_2k = [ms * 2000 / chars for ms, chars in zip(scores.cpu_ms, scores.chars, strict=True)]
    print(
        f"latency per message: p50 {p50:.2f} ms   p95 {p95:.2f} ms   p99 {p99:.2f} ms   "
        f"max {max(latencies):.2f} ms   (p95 per 2,000 chars {p95_2k:.2f} ms; "
        f"CPU time p95 per 2,000 chars {percentile(cpu_2k, 95):.2f} ms)"
    )
    if p95_2k > P95_TARGET_MS:
        failures.append(f"{language} p95 latency {p95_2k:.2f} ms per 2,000 chars > "
                        f"{P95_TARGET_MS:.0f} ms")
    print(
        f"false alarms on harmless text: {len(scores.false_alarms)}; "
        f"missed spans: {len(scores.misses)}"
    )
    if show_misses:
        for kind, rows_ in (("missed", scores.misses), ("false alarm", scores.false_alarms)):
            by_type: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
            for row in rows_:
                by_type[row[0]].append(row)
            for entity_type, examples in by_type.items():
                for _, value, context in examples[:8]:
                    print(f"  {kind:<11} {entity_type:<16} {value!r:<32} in {context!r}")
    print()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500, help="messages per language")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--languages", default="en,ko,ja,zh",
                        help="comma-separated: en, ko, ja, zh (default: all)")
    parser.add_argument("--show-misses", action="store_true", help="print missed and false spans")
    args = parser.parse_args()
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    unknown = set(languages) - {"en", "ko", "ja", "zh"}
    if unknown:
        parser.error(f"unknown language(s) {', '.join(sorted(unknown))}; use en, ko, ja, zh")

    started = time.perf_counter()
    warm_up()
    build_s = time.perf_counter() - started
    print(f"seed {args.seed}; engine built in {build_s * 1000:.0f} ms; every type enabled")
    print()

    failures: list[str] = []
    english = Corpus(args.seed)
    for language in languages:
        corpus = english if language == "en" else CjkCorpus(args.seed, language)
        messages = [corpus.message() for _ in range(args.messages)]
        # Warm the caches (compiled term patterns, lazily compiled regexes).
        redact(messages[0].text, terms=corpus.terms)
        failures += report(language, evaluate(messages, corpus.terms), args.show_misses)

    if "en" in languages:
        # Known limit, measured apart: a phone number with no cue word at all.
        # Formatted ones are caught by shape; a bare digit run is
        # indistinguishable from an order number, so it is left alone.
        caught: Counter[str] = Counter()
        tried: Counter[str] = Counter()
        for _ in range(300):
            value = english.phone()
            shape = "bare digits" if value.isdigit() else "formatted"
            tried[shape] += 1
            result = redact(f"Noted {value} for the file.", terms=())
            caught[shape] += any(i.original == value for i in result.items)
        print(
            "[en] phones with no cue word nearby: "
            + ", ".join(f"{s} {caught[s]}/{tried[s]}" for s in ("formatted", "bare digits"))
        )
        print()

    from bench.redaction_people import run as run_people

    failures += run_people(languages, min(args.messages, 200), args.seed, args.show_misses)

    if failures:
        print("targets missed: " + "; ".join(failures))
    else:
        print(
            f"all targets met (recall >= {RECALL_TARGET:.0%}, precision >= "
            f"{PRECISION_TARGET:.0%}, p95 <= {P95_TARGET_MS:.0f} ms per 2,000 chars)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
