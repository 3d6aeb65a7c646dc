"""Cross-language questions: an employee asks in one language, and the answer
is only in a document written in another (issue 24). Each question is
labelled with the passage of the TARGET corpus that answers it (the same
file and answer phrase as that corpus's own question), and is asked of a
client holding that corpus only, so no document in the question's language
can answer it instead (the ko and ja corpora cover the same topics with
different figures: asked together, a Korean question about the Japanese
travel rules would be right to cite the Korean ones).

PAIRS maps (question language, document language) to its questions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrossQuestion:
    file: str  # in the target corpus
    answer: str  # the target passage's phrase, in the target language
    query: str  # the question, in the asking language


PAIRS: dict[tuple[str, str], list[CrossQuestion]] = {
    # A Korean employee asks about the Japanese rules.
    ("ko", "ja"): [
        CrossQuestion("休暇規程.md", "翌年度に限り繰り越す",
                      "다 쓰지 못한 연차 유급휴가를 다음 해로 넘길 수 있나요?"),
        CrossQuestion("休暇規程.md", "連続3日間の夏季休暇", "여름휴가는 며칠인가요?"),
        CrossQuestion("休暇規程.md", "子が1歳に達するまで育児休業",
                      "육아휴직은 언제까지 쓸 수 있나요?"),
        CrossQuestion("出張旅費規程.docx", "部長以上の役職者に限ります",
                      "신칸센 그린차를 이용할 수 있나요?"),
        CrossQuestion("出張旅費規程.docx", "1日50米ドル", "해외 출장 일당은 얼마인가요?"),
        CrossQuestion("出張旅費規程.docx", "帰着後1週間以内",
                      "출장 여비 정산은 언제까지 신청해야 하나요?"),
        CrossQuestion("テレワーク勤務規程.txt", "週3日まで在宅勤務",
                      "재택근무는 일주일에 며칠까지 할 수 있나요?"),
        CrossQuestion("テレワーク勤務規程.txt", "在宅勤務手当を月額3,000円",
                      "재택근무 수당은 얼마나 지급되나요?"),
        CrossQuestion("情報セキュリティ基本方針.html", "内線2250",
                      "수상한 메일을 받으면 어디에 보고하나요?"),
        CrossQuestion("福利厚生ガイド.md", "受験料の全額を会社が負担",
                      "자격증 시험 응시료는 회사가 내 주나요?"),
        CrossQuestion("福利厚生ガイド.md", "結婚祝金として3万円", "결혼하면 축하금은 얼마 받나요?"),
        CrossQuestion("人事評価制度.docx", "6月と12月の年2回支給", "상여금은 언제 지급되나요?"),
    ],
    # A Japanese employee asks about the Korean rules.
    ("ja", "ko"): [
        CrossQuestion("휴가-및-휴직-규정.md", "연차휴가 15일이 주어진다",
                      "入社1年後、年次休暇は何日もらえますか？"),
        CrossQuestion("휴가-및-휴직-규정.md", "의사의 진단서를 제출",
                      "病気休暇を取るとき診断書は必要ですか？"),
        CrossQuestion("휴가-및-휴직-규정.md", "최대 1년까지 육아휴직",
                      "育児休職は最長どのくらい取れますか？"),
        CrossQuestion("국내외-출장비-지급-지침.docx", "1km당 300원의 유류비",
                      "自家用車を業務で使ったらガソリン代はいくら出ますか？"),
        CrossQuestion("국내외-출장비-지급-지침.docx", "서울은 15만 원",
                      "ソウル出張の宿泊費の上限はいくらですか？"),
        CrossQuestion("국내외-출장비-지급-지침.docx", "하루 미화 60달러의 일비",
                      "海外出張の日当は一日いくらですか？"),
        CrossQuestion("재택근무-운영-기준.txt", "오전 10시부터 오후 4시까지는 코어타임",
                      "在宅勤務のコアタイムは何時から何時までですか？"),
        CrossQuestion("재택근무-운영-기준.txt", "매월 3만 원",
                      "在宅勤務のインターネット代は補助されますか？"),
        CrossQuestion("정보보안-수칙.html", "12자 이상으로 만들고 90일마다 변경",
                      "パスワードは何文字以上にしなければなりませんか？"),
        CrossQuestion("복리후생-안내.md", "연간 120만 원의 자기계발비",
                      "自己啓発費は年間いくらまで支援されますか？"),
        CrossQuestion("복리후생-안내.md", "오전 7시 20분에 출발", "通勤バスは何時に出発しますか？"),
        CrossQuestion("인사평가-제도.docx", "4월 1일부터 적용",
                      "昇給した年俸はいつから適用されますか？"),
    ],
    # Korean and Japanese employees asking about the English documents.
    ("ko", "en"): [
        CrossQuestion("travel-policy.md", "65 euros for each full day",
                      "해외 출장 일비는 하루에 얼마인가요?"),
        CrossQuestion("travel-policy.md", "capped at 180 euros per night",
                      "출장 호텔비는 1박에 얼마까지 되나요?"),
        CrossQuestion("expense-reimbursement.docx", "within 30 days of the expense",
                      "경비 청구는 언제까지 제출해야 하나요?"),
        CrossQuestion("parking.txt", "cost 40 euros per month", "주차권은 한 달에 얼마인가요?"),
        CrossQuestion("it-equipment.docx", "Laptops are replaced every three years",
                      "노트북은 몇 년마다 교체되나요?"),
        CrossQuestion("onboarding.md", "probation period lasts six months",
                      "수습 기간은 얼마나 되나요?"),
        CrossQuestion("leave-policy.pdf", "28 days of annual leave per year",
                      "연차휴가는 1년에 며칠인가요?"),
        CrossQuestion("remote-work.txt", "one-off home office allowance of 600 euros",
                      "재택근무자에게 홈오피스 지원금이 있나요?"),
        CrossQuestion("code-of-conduct.pdf", "anonymously through the SpeakUp line",
                      "직장 내 괴롭힘은 어떻게 신고하나요?"),
        CrossQuestion("information-security.md", "at least 14 characters long",
                      "비밀번호는 몇 자 이상이어야 하나요?"),
        CrossQuestion("performance-reviews.md", "take effect on 1 April",
                      "연봉 인상은 언제부터 적용되나요?"),
        CrossQuestion("data-protection.txt", "kept for seven years after the end of the contract",
                      "고객 기록은 얼마 동안 보관하나요?"),
    ],
    ("ja", "en"): [
        CrossQuestion("travel-policy.md", "Business class is allowed only",
                      "飛行機のビジネスクラスはどんな場合に利用できますか？"),
        CrossQuestion("travel-policy.md", "0.30 euros per kilometre",
                      "自家用車で移動した場合、走行距離の精算はどうなりますか？"),
        CrossQuestion("expense-reimbursement.docx", "up to 80 euros per person",
                      "取引先との会食費はいくらまで精算できますか？"),
        CrossQuestion("parking.txt", "Charging is free for employees",
                      "電気自動車の充電は無料ですか？"),
        CrossQuestion("it-equipment.docx", "within 24 hours at the latest",
                      "ノートパソコンを紛失したり盗まれたりしたらどうすればいいですか？"),
        CrossQuestion("onboarding.md", "Bring your passport or ID card",
                      "初日に何を持っていけばいいですか？"),
        CrossQuestion("leave-policy.pdf", "Up to five unused leave days can be carried over",
                      "使わなかった休暇は翌年に繰り越せますか？"),
        CrossQuestion("remote-work.txt", "work remotely up to three days per week",
                      "リモートワークは週に何日までできますか？"),
        CrossQuestion("benefits-guide.pdf", "six free confidential counselling sessions",
                      "従業員支援プログラムでカウンセリングは何回受けられますか？"),
        CrossQuestion("holidays-and-office-hours.html", "open from 7:00 to 20:00 on weekdays",
                      "オフィスの建物は何時から何時まで開いていますか？"),
        CrossQuestion("learning-and-development.docx", "training budget of 1,500 euros per year",
                      "個人の研修予算はいくらですか？"),
        CrossQuestion("data-protection.txt", "within 72 hours of becoming aware",
                      "個人情報の漏えいが起きたら、監督機関にいつまでに届け出ますか？"),
    ],
    # English speakers (e.g. at headquarters) asking about the ko/ja rules.
    ("en", "ko"): [
        CrossQuestion("휴가-및-휴직-규정.md", "본인이 결혼하는 경우 5일",
                      "How many days of leave do I get for my own wedding?"),
        CrossQuestion("국내외-출장비-지급-지침.docx", "돌아온 날부터 7일 이내",
                      "How soon after a business trip must I settle travel expenses?"),
        CrossQuestion("재택근무-운영-기준.txt", "주 2회까지 재택근무",
                      "How many times a week can I work from home?"),
        CrossQuestion("정보보안-수칙.html", "개인 USB 메모리와 외장하드",
                      "May I plug my personal USB stick into a company PC?"),
        CrossQuestion("복리후생-안내.md", "배우자의 검진 비용도 회사가",
                      "Does the company pay for my spouse's health check-up?"),
        CrossQuestion("복리후생-안내.md", "오전 11시 30분부터 오후 1시 30분까지",
                      "When is lunch served in the company cafeteria?"),
        CrossQuestion("인사평가-제도.docx", "매년 3월에 한 번", "When are promotions reviewed?"),
        CrossQuestion("인사평가-제도.docx", "2주 이내에 인사팀에",
                      "How do I appeal my performance review result?"),
    ],
    ("en", "ja"): [
        CrossQuestion("休暇規程.md", "10日の年次有給休暇を付与",
                      "How many days of paid annual leave do new employees get?"),
        CrossQuestion("休暇規程.md", "本人が結婚するときは5日",
                      "How many days off do I get for my own wedding?"),
        CrossQuestion("出張旅費規程.docx", "1泊12,000円を上限",
                      "What is the hotel limit per night on domestic business trips?"),
        CrossQuestion("テレワーク勤務規程.txt", "11時から15時まではコアタイム",
                      "What are the core hours when working from home?"),
        CrossQuestion("情報セキュリティ基本方針.html", "私物のUSBメモリ",
                      "Can I connect my own USB memory stick to a work computer?"),
        CrossQuestion("福利厚生ガイド.md", "費用を3万円まで補助",
                      "Does the company subsidise a comprehensive medical check-up?"),
        CrossQuestion("人事評価制度.docx", "上期の評価面談は10月",
                      "When is the performance review meeting held?"),
        CrossQuestion("人事評価制度.docx", "2週間以内に人事部へ書面",
                      "How do I object to my evaluation result?"),
    ],
}


def check() -> None:
    """Each answer phrase is in exactly one paragraph, of its file."""
    from bench import knowledge_corpus, knowledge_corpus_ja, knowledge_corpus_ko

    corpora = {"en": knowledge_corpus, "ko": knowledge_corpus_ko, "ja": knowledge_corpus_ja}
    for (_, target), questions in PAIRS.items():
        paragraphs = [(document.name, paragraph)
                      for document in corpora[target].DOCUMENTS
                      for _, section in document.sections for paragraph in section]
        for question in questions:
            found = [name for name, paragraph in paragraphs if question.answer in paragraph]
            assert found == [question.file], (question, found)


check()
