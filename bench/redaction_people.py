"""Names, addresses and secrets: recall, precision and latency per language.

A seeded corpus per language (en, ko, ja) of ~2,000-character messages, each
a mix of sentences that carry labelled spans and sentences full of
look-alikes (company, product and place names used as words, code that talks
about passwords, ids and hashes):

- MEMBER_NAME: members of a 300-person directory (Faker's ko_KR / ja_JP /
  en_US names) in the forms colleagues write: full name, family name with a
  title or honorific, given name with a form of address, particles glued on;
- PERSON: other people's names (not in the directory);
- POSTAL_ADDRESS: street addresses (Faker's address providers, as people
  write them) and postal codes next to a cue;
- SECRET: the credential formats of detect-secrets and passwords in
  connection strings, URLs and "password: ..." lines.

Scored as bench/redaction.py scores: a span counts as found when one
placeholder covers it; a redaction is correct when it overlaps a span of its
own type. Run through bench/redaction.py (it prints these tables after its
own) or alone:

    python bench/redaction_people.py [--messages 200] [--languages en,ko,ja]
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile  # noqa: E402
from compliance.redaction import Member, redact  # noqa: E402

TARGETS = {  # type: (recall, precision)
    "MEMBER_NAME": (0.99, None),
    "PERSON": (0.90, 0.90),
    "POSTAL_ADDRESS": (0.95, 0.95),
    "SECRET": (0.99, 1.0),
}
P95_TARGET_MS = 15.0
TYPES = ("MEMBER_NAME", "PERSON", "POSTAL_ADDRESS", "SECRET")
LOCALES = {"en": "en_US", "ko": "ko_KR", "ja": "ja_JP"}


@dataclass
class Message:
    text: str = ""
    spans: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, template: str, **values: tuple[str, str]) -> None:
        """Append a sentence; ``values`` fill "{name}" slots with (type, text)."""
        parts = template.split("{")
        self.text += parts[0]
        for part in parts[1:]:
            slot, rest = part.split("}", 1)
            entity_type, value = values[slot]
            start = len(self.text)
            self.text += value
            if entity_type:
                self.spans.append((entity_type, start, len(self.text)))
            self.text += rest


class PeopleCorpus:
    def __init__(self, language: str, seed: int) -> None:
        self.language = language
        self.rng = random.Random(seed)
        self.fake = Faker(LOCALES[language])
        self.fake.seed_instance(seed)
        self.uk = Faker("en_GB")
        self.uk.seed_instance(seed + 1)
        self.members = self._directory(300)
        member_names = {(m.given, m.family) for m in self.members}
        others: list[tuple[str, str]] = []
        while len(others) < 300:
            pair = self._name()
            if pair not in member_names:
                others.append(pair)
        self.others = others

    def _name(self) -> tuple[str, str]:
        if self.language == "ko":
            return self.fake.first_name(), self.fake.last_name()
        if self.language == "ja":
            return self.fake.first_name(), self.fake.last_name()
        return self.fake.first_name(), self.fake.last_name()

    def _directory(self, size: int) -> list[Member]:
        seen: set[tuple[str, str]] = set()
        members = []
        while len(members) < size:
            given, family = self._name()
            if (given, family) in seen:
                continue
            seen.add((given, family))
            members.append(Member(str(len(members) + 1), given, family))
        return members

    # --- values ---------------------------------------------------------------------

    def member_form(self) -> tuple[str, str, str]:
        """(before, name as written, after): the span is the middle part."""
        m = self.rng.choice(self.members)
        if self.language == "ko":
            title = self.rng.choice(["과장님", "부장님", "대리", "팀장님", "님", "선임"])
            return self.rng.choice([
                ("", m.family + m.given, ""),
                ("", m.family + m.given, " " + title),
                ("", m.family + m.given, "가" if self._vowel_final(m.given) else "이"),
                ("", m.family + m.given, "님은"),
                ("", m.family, " " + title) if len(m.family) > 1 or m.family not in
                "이전정조주한제그도반방성소양연오우원육장차천표대구남공동안고마" else
                ("", m.family, title),
                ("", m.given, " 씨"),
                ("", m.given, "님"),
            ])
        if self.language == "ja":
            return self.rng.choice([
                ("", m.family + m.given, ""),
                ("", f"{m.family} {m.given}", "さん"),
                ("", m.family, self.rng.choice(["さん", "部長", "課長", "様"])),
                ("", m.given, "さん"),
            ])
        return self.rng.choice([
            ("", f"{m.given} {m.family}", ""),
            (self.rng.choice(["Mr. ", "Ms. ", "Dr ", "Mrs "]), m.family, ""),
            ("", f"{m.family}, {m.given}", ""),
        ])

    @staticmethod
    def _vowel_final(word: str) -> bool:
        last = word[-1]
        return "\uac00" <= last <= "\ud7a3" and (ord(last) - 0xAC00) % 28 == 0

    def other_name(self) -> str:
        given, family = self.rng.choice(self.others)
        if self.language == "ko":
            return family + given
        if self.language == "ja":
            return family + given
        return f"{given} {family}"

    def address(self) -> str:
        if self.language == "ko":
            return self.fake.address()
        if self.language == "ja":
            return self.fake.address()
        if self.rng.random() < 0.5:
            return (f"{self.fake.street_address()}, {self.fake.city()}, "
                    f"{self.fake.state_abbr()} {self.fake.zipcode()}")
        return f"{self.uk.street_address()}, {self.uk.city()} {self.uk.postcode()}"

    def postcode(self) -> tuple[str, str]:
        if self.language == "ko":
            return "우편번호는 ", self.fake.postcode()
        if self.language == "ja":
            return "", "〒" + self.fake.zipcode()
        if self.rng.random() < 0.5:
            return "ZIP code ", self.fake.zipcode()
        return "postcode ", self.uk.postcode()

    def _token(self, alphabet: str, length: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def secret(self) -> tuple[str, str, str]:
        up, low, dig = string.ascii_uppercase, string.ascii_lowercase, string.digits
        alnum = up + low + dig
        password = self._token(alnum, 8) + self.rng.choice("!#%*") + self._token(dig, 2)
        jwt = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJ" + self._token(alnum, 30) + "."
               + self._token(alnum + "-_", 43))
        choices = [
            ("", "AKIA" + self._token(up + dig, 16), ""),
            ("", "ghp_" + self._token(alnum, 36), ""),
            ("", "glpat-" + self._token(alnum, 20), ""),
            ("", "xoxb-" + self._token(dig, 12) + "-" + self._token(dig, 12) + "-"
             + self._token(low + dig, 24), ""),
            ("", "sk-proj-" + self._token(alnum, 20) + "T3BlbkFJ" + self._token(alnum, 20), ""),
            ("", "sk_live_" + self._token(alnum, 24), ""),
            ("", "SG." + self._token(alnum, 22) + "." + self._token(alnum, 43), ""),
            ("", jwt, ""),
            ("postgres://app:", password, "@db.internal:5432/app"),
            ("https://deploy:", password, "@git.example.com/repo.git"),
            ("Server=db01;User Id=sa;Password=", password, ";"),
            ("DB_PASSWORD=", password, ""),
            ("", "-----BEGIN RSA PRIVATE KEY-----\n"
             + "\n".join(self._token(alnum + "+/", 64) for _ in range(3))
             + "\n-----END RSA PRIVATE KEY-----", ""),
        ]
        if self.language == "ko":
            choices.append(("비밀번호는 ", password, " 입니다"))
        if self.language == "ja":
            choices.append(("パスワード：", password, "です"))
        return self.rng.choice(choices)

    # --- sentences ------------------------------------------------------------------

    def pii_sentence(self, message: Message) -> None:
        kind = self.rng.choice(["member", "member", "other", "address", "postcode", "secret"])
        ko, ja = self.language == "ko", self.language == "ja"
        if kind == "member":
            before, name, after = self.member_form()
            template = ("{b}{n}{a} 연봉 조정안 정리해 줘. " if ko else
                        "{b}{n}{a}に資料を送ってください。" if ja else
                        "Please send the draft to {b}{n}{a} today. ")
            message.add(template, b=("", before), n=("MEMBER_NAME", name), a=("", after))
        elif kind == "other":
            template = ("고객 {n} 님이 환불을 요청했습니다. " if ko else
                        "取引先の{n}様から連絡がありました。" if ja else
                        "A customer, {n}, asked for a refund. ")
            message.add(template, n=("PERSON", self.other_name()))
        elif kind == "address":
            template = ("주소는 {v}입니다. " if ko else "住所は{v}です。" if ja else
                        "Ship it to {v} by Friday. ")
            message.add(template, v=("POSTAL_ADDRESS", self.address()))
        elif kind == "postcode":
            cue, code = self.postcode()
            template = ("{c}{v}입니다. " if ko else "{c}{v}までお送りください。" if ja else
                        "The {c}{v} is on the label. ")
            message.add(template, c=("", cue), v=("POSTAL_ADDRESS", code))
        else:
            before, value, after = self.secret()
            template = ("이 설정이 안 됩니다: {b}{v}{a} " if ko else
                        "この設定が動きません：{b}{v}{a} " if ja else
                        "This config fails: {b}{v}{a} ")
            message.add(template, b=("", before), v=("SECRET", value), a=("", after))
            message.text += "\n"

    LOOKALIKES = {
        "en": [
            "Will you review the Smith & Wesson contract and the Ford Motor quote? ",
            "Main Street Bank moved its office; the 5 Best Street Foods list is out. ",
            "We shipped 3 units on Main Street today, order 123456789. ",
            "Johnson & Johnson and Procter & Gamble renewed; Grant Thornton audits us. ",
            "Reset your password: click the link in the e-mail. ",
            "password = os.environ['DB_PASSWORD'] and token = get_token() in settings.py. ",
            "Commit 3f2a9c1d0b8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a fixed the build; uuid "
            "123e4567-e89b-12d3-a456-426614174000 is the job. ",
            "The API key rotates every 90 days; set api_key: ${API_KEY} in CI. ",
            "Version 2.3 ships to 12 teams on Washington Street's product line. ",
            "Mark the Jordan project as done and grant access to the Paris office. ",
        ],
        "ko": [
            "서울로 2명 출장 갑니다. 회의실로 3시까지 와 주세요. ",
            "이 과장님께 보낼 자료는 지원 사업 예산입니다. ",
            "삼성전자와 현대자동차 견적을 비교했습니다. 제주 감귤 선물 세트 주문. ",
            "비밀번호를 바꿔 주세요. 비밀번호 정책은 12자 이상입니다. ",
            "강남역 근처 카페에서 2시에 만나요. 부산 지사 실적이 좋습니다. ",
            "주문번호 20240315는 출고되었습니다. 버전 2.13.4로 업데이트했습니다. ",
            "한국은행 기준금리 발표가 있습니다. 정 대표 사례집을 참고하세요. ",
        ],
        "ja": [
            "田中町の工場と東京本社で会議があります。",
            "事業部3-2-1の計画と2022年度は3-4月の予算です。",
            "トヨタ自動車とソニーの見積もりを比較しました。",
            "パスワードを変更してください。パスワードポリシーは12文字以上です。",
            "大阪で打ち合わせ、京都観光の資料を作成します。",
            "注文番号12345678は発送済みです。バージョン2.3.1を公開しました。",
            "山田うどんと吉野家の新商品を調べてください。",
        ],
    }

    def message(self) -> Message:
        message = Message()
        while len(message.text) < 1900:
            if self.rng.random() < 0.45:
                self.pii_sentence(message)
            else:
                message.text += self.rng.choice(self.LOOKALIKES[self.language])
        return message


@dataclass
class Scores:
    gold: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)
    predicted: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)
    per_2k_ms: list[float] = field(default_factory=list)


def evaluate(corpus: PeopleCorpus, messages: list[Message], entities: list[str] | None
             ) -> Scores:
    scores = Scores()
    mapping: dict[str, str] = {}
    for index, message in enumerate(messages):
        if index % 10 == 0:
            mapping = {}
        t0 = time.thread_time()
        result = redact(message.text, entities=entities, members=corpus.members,
                        mapping=mapping)
        scores.per_2k_ms.append((time.thread_time() - t0) * 1000 * 2000 / len(message.text))
        mapping = result.mapping
        for entity_type, start, end in message.spans:
            scores.gold[entity_type] += 1
            if any(i.start <= start and i.end >= end for i in result.items):
                scores.found[entity_type] += 1
            else:
                scores.misses.append((entity_type, message.text[start:end]))
        for item in result.items:
            kind = "PERSON" if item.entity_type == "MEMBER_NAME" and not any(
                t == "MEMBER_NAME" and s < item.end and item.start < e
                for t, s, e in message.spans) else item.entity_type
            if item.entity_type not in TYPES:
                continue
            scores.predicted[item.entity_type] += 1
            if any(t in (item.entity_type, kind) and s < item.end and item.start < e
                   for t, s, e in message.spans):
                scores.correct[item.entity_type] += 1
            else:
                scores.false_alarms.append((item.entity_type, item.original))
    return scores


def report(language: str, scores: Scores, show_misses: bool) -> list[str]:
    print(f"[{language}] names, addresses, secrets: {len(scores.per_2k_ms)} messages")
    header = f"{'entity type':<16} {'spans':>6} {'recall':>8} {'redacted':>9} {'precision':>10}"
    print(header)
    print("-" * len(header))
    failures = []
    for entity_type in TYPES:
        gold, predicted = scores.gold[entity_type], scores.predicted[entity_type]
        recall = scores.found[entity_type] / gold if gold else float("nan")
        precision = scores.correct[entity_type] / predicted if predicted else float("nan")
        print(f"{entity_type:<16} {gold:>6} {recall:>8.2%} {predicted:>9} {precision:>10.2%}")
        recall_target, precision_target = TARGETS[entity_type]
        if gold and recall < recall_target:
            failures.append(f"{language} {entity_type} recall {recall:.2%} < {recall_target:.0%}")
        if precision_target and predicted and precision < precision_target:
            failures.append(f"{language} {entity_type} precision {precision:.2%} < "
                            f"{precision_target:.0%}")
    p50, p95 = percentile(scores.per_2k_ms, 50), percentile(scores.per_2k_ms, 95)
    print(f"CPU time per 2,000 chars, every type on and a 300-member directory: "
          f"p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    if p95 > P95_TARGET_MS:
        failures.append(f"{language} names/addresses/secrets p95 {p95:.2f} ms > "
                        f"{P95_TARGET_MS:.0f} ms")
    if show_misses:
        for kind, rows in (("missed", scores.misses), ("false alarm", scores.false_alarms)):
            shown: Counter = Counter()
            for entity_type, value in rows:
                if shown[entity_type] < 8:
                    shown[entity_type] += 1
                    print(f"  {kind:<11} {entity_type:<15} {value!r}")
    print()
    return failures


def run(languages: list[str], messages: int, seed: int, show_misses: bool) -> list[str]:
    failures: list[str] = []
    for language in languages:
        if language not in LOCALES:
            continue
        corpus = PeopleCorpus(language, seed)
        batch = [corpus.message() for _ in range(messages)]
        redact(batch[0].text, members=corpus.members)  # build the directory's matcher
        failures += report(language, evaluate(corpus, batch, None), show_misses)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--languages", default="en,ko,ja")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    failures = run([c.strip() for c in args.languages.split(",")], args.messages, args.seed,
                   args.show_misses)
    print("targets missed: " + "; ".join(failures) if failures else "all targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
