"""Korean version of the Security overview (seed content, 합니다체).

The same facts as the English version in ``compliance.overview_content``, written
for a Korean business reader rather than translated word by word. Section slugs,
orders and link URLs match the English ones, so staff can compare versions side
by side; the text itself is edited per language in the platform admin.
"""

from __future__ import annotations

from datetime import date

from compliance.overview_content import Labels, Link, Section, _text

LANGUAGE = "ko"
LAST_REVIEWED = date(2026, 11, 30)

LABELS = Labels(
    language_name="한국어",
    version="한국어판",
    title="TuneAIBot 보안 개요",
    subject="OpenAI API로 전송되는 데이터의 처리 방식",
    page_heading="보안 개요: 데이터가 모델 학습에 사용되나요?",
    last_reviewed="최종 검토일: {date}",
    not_reviewed="최종 검토일: 아직 검토되지 않았습니다",
    date_format="{year}년 {month}월 {day}일",
    download_pdf="보안 개요 PDF 다운로드",
    languages="언어",
    references="참고 자료",
    link_name="자료명",
    link_description="설명",
    link_address="링크",
    no_content="보안 개요에 아직 내용이 없습니다.",
    workspace_heading="귀사 워크스페이스 설정",
    workspace_heading_named="귀사 워크스페이스 설정: {name}",
    workspace_intro=(
        "이 문서를 생성한 시점의 워크스페이스 데이터 처리 설정입니다. "
        "설정은 워크스페이스 관리자가 변경할 수 있습니다."
    ),
    workspace_empty="이 워크스페이스에 기록된 설정이 없습니다.",
    page="{number}페이지",
    fallback_note="보안 개요가 아직 한국어로 준비되지 않아 영어판을 표시합니다.",
    unknown_language=(
        "보안 개요는 “{lang}” 언어로 제공되지 않습니다. 다음 중 하나를 선택하십시오: {choices}."
    ),
)

INTRO = Section(
    slug="about",
    title="이 문서에 대하여",
    order=1,
    body=_text(
        """
        TuneAIBot은 고객사마다 전용 어시스턴트를 제공합니다. 어시스턴트의 답변은
        OpenAI 모델이 작성하며, TuneAIBot은 OpenAI API를 통해 이 모델을 이용합니다. 이
        문서는 귀사 임직원이 어시스턴트와 공유하는 질문, 지시문, 문서가 어떻게 처리되는지
        설명합니다. 무엇이 OpenAI로 전송되는지, OpenAI가 그 데이터를 어디에 사용할 수 있고
        어디에 사용할 수 없는지, 얼마 동안 보관되는지, 그리고 TuneAIBot이 어떤 보호 장치를
        더하는지를 다룹니다.

        대화 내용, 업로드한 파일, 검색 색인은 다른 모든 고객사와 분리된 귀사 전용
        데이터베이스 스키마에 저장됩니다. 질문에 답하는 데 필요한 내용만 모델로 전송되며,
        이러한 호출은 빠짐없이 기록됩니다.

        아래 내용은 OpenAI가 API 고객을 대상으로 공개한 약관을 알기 쉽게 정리한 것이며,
        법률 자문이 아닙니다. 이 문서와 OpenAI의 공식 문서가 서로 다를 경우 '참고 자료'에
        나열된 문서가 우선합니다. 또한 귀사가 체결한 계약에 따라 여기에서 설명하는 기본
        조건 중 일부가 달라질 수 있습니다.
        """
    ),
)

POLICY_PARTS: tuple[Section, ...] = (
    Section(
        slug="use-for-training",
        title="학습 활용 여부",
        order=2,
        body=_text(
            """
            OpenAI는 2023년 3월 1일부터 API를 통해 받은 데이터를 모델 학습이나 개선에
            사용하지 않습니다. 유일한 예외는 조직이 OpenAI와 데이터를 공유하기로 명시적으로
            선택(옵트인)한 경우입니다. TuneAIBot의 플랫폼 계정은 옵트인하지 않았으며,
            TuneAIBot이 고객사를 대신하여 옵트인하는 일도 없습니다.

            - 이 원칙은 TuneAIBot이 전송하는 모든 데이터에 적용됩니다. 사용자의 질문,
              어시스턴트에 설정된 지시문, 귀사 문서에서 발췌한 구절, 모델이 돌려주는 답변이
              모두 포함됩니다.
            - 브라우저나 모바일 앱에서 이용하는 무료·개인용 ChatGPT 요금제 등 OpenAI의
              소비자용 서비스에는 다른 규칙이 적용됩니다. 이러한 서비스에서는 사용자가
              설정을 끄지 않는 한 대화 내용이 모델 개선에 사용될 수 있습니다. 이 규칙은
              API로 전송되는 데이터에는 적용되지 않습니다.
            - 귀사 문서는 모델 파인튜닝에 사용되지 않습니다. TuneAIBot은 지시문을 설정하고,
              질문이 들어온 시점에 관련 구절을 찾아 함께 전달하는 방식으로 어시스턴트를
              귀사에 맞춥니다.
            - 워크스페이스에서 귀사 조직의 자체 API 키를 사용하는 경우, 옵트인 여부는 해당
              조직이 OpenAI에 설정한 내용을 따릅니다.
            """
        ),
    ),
    Section(
        slug="storage-and-retention",
        title="저장 및 보관 기간",
        order=3,
        body=_text(
            """
            OpenAI가 API 데이터를 보관하는 경우는 다음과 같으며, 각각 분명한 목적이
            있습니다.

            - 악용 모니터링 로그: OpenAI는 서비스 악용을 탐지하고 조사하기 위해 기본적으로
              요청과 응답을 최대 30일간 보관한 뒤 삭제합니다. 법률상 의무가 있는 경우에만
              이보다 오래 보관합니다.
            - 데이터 미보관(Zero Data Retention): OpenAI로부터 데이터 미보관 승인을 받은
              조직은 해당 콘텐츠가 위 로그에서 완전히 제외됩니다. 승인은 개별 심사를 거쳐
              이루어지며, 대상이 되는 엔드포인트에만 적용됩니다.
            - 저장 객체: 업로드한 파일, 벡터 스토어, 저장된 대화처럼 API에 보관을 명시적으로
              요청한 데이터는 삭제할 때까지 남아 있습니다. OpenAI의 store 옵션(Responses
              API에서는 기본적으로 켜져 있음)으로 저장된 응답은 먼저 삭제하지 않는 한
              30일간 보관됩니다.

            TuneAIBot은 이러한 저장 객체를 전혀 사용하지 않습니다. 업로드한 파일은
            TuneAIBot 내부, 즉 귀사 전용 PostgreSQL 스키마에서 색인되며, 질문과 관련된
            구절만 질문과 함께 전송됩니다. 모든 호출은 store=False로 이루어지므로, 악용
            모니터링 로그 외에는 OpenAI에 아무것도 남지 않습니다.

            - 의미 기반 검색은 기본적으로 TuneAIBot 내부에서 실행되는 모델을 사용하므로,
              검색 벡터를 계산하기 위해 문서 텍스트를 외부로 보내지 않습니다. 워크스페이스에서
              임베딩 API를 사용하도록 선택한 경우에만 각 문서 구절(및 각 질문)의 텍스트가
              OpenAI 임베딩 엔드포인트로 전송됩니다. 벡터는 귀사 스키마에 저장되며, 이
              호출에도 같은 학습 및 악용 모니터링 규칙이 적용됩니다.
            - TuneAIBot이 대화와 업로드 파일을 얼마 동안 보관할지는 워크스페이스에서
              정합니다. 보관 기간이 끝나면 데이터는 자동으로 삭제됩니다.
            - 모델 호출은 모두 감사 기록에 남습니다. 감사 기록에는 호출 시각과 호출한
              모델이 기록되지만, 메시지 내용은 기록되지 않습니다.
            """
        ),
    ),
    Section(
        slug="scope-of-use",
        title="이용 범위",
        order=4,
        body=_text(
            """
            OpenAI는 API로 받은 데이터를 서비스 제공과 안전 유지를 위해서만 처리합니다.

            - 각 요청에 대한 응답을 생성하기 위해
            - 오류나 성능 문제를 조사하는 등 서비스를 안정적으로 운영하기 위해
            - 스팸, 사기, 공격, 이용 정책 위반 등의 악용을 탐지하고 조사하기 위해

            마케팅 등 그 밖의 용도로는 사용되지 않으며, 조직이 옵트인하지 않는 한 모델
            개선에도 사용되지 않습니다.

            TuneAIBot에서 각 요청에는 현재 질문에 필요한 내용만 담깁니다. 어시스턴트의
            지시문, 최근 대화 내용, 귀사 문서에서 찾은 관련 구절이 그것입니다. 개인정보
            마스킹(기본값: 사용)을 켜 두면, 워크스페이스에서 선택한 종류의 개인정보가 요청이
            TuneAIBot을 떠나기 전에 대체 표시로 바뀝니다. 한 고객사의 대화와 문서가 다른
            고객사의 요청에 포함되는 일은 없습니다.
            """
        ),
    ),
    Section(
        slug="user-responsibility",
        title="이용자의 책임",
        order=5,
        body=_text(
            """
            이러한 보호 장치는 귀사가 의무를 이행하도록 돕지만, 그 의무를 대신하지는
            않습니다. 어시스턴트와 공유하기로 한 개인정보와 기밀 정보에 대한 책임은 여전히
            귀사에 있습니다.

            - 개인정보나 민감한 정보는 업무상 필요하고 법적 근거가 있는 경우에만 공유하시고,
              GDPR이나 개인정보 보호법 등 귀사에 적용되는 개인정보 보호 법령과 내부 정책을
              준수하십시오.
            - 고객, 지원자, 동료 등 다른 사람에 관한 정보를 공유하기 전에는 가능한 한
              익명화하거나 가명 처리하고, 그렇게 할 수 없다면 당사자의 동의나 그 밖의 법적
              근거가 있는지 확인하십시오.
            - 분명한 사유가 없다면 개인정보 마스킹을 켜 두십시오. 자동 마스킹은 위험을
              줄여 주지만 모든 경우를 잡아낼 수는 없으므로, 입력하는 사람의 주의를 대신하지
              못합니다.
            - 보관 기간은 귀사의 기록 관리 정책에 맞게 정하고, 사용할 권리가 있는 콘텐츠만
              사용하십시오.
            - 서비스를 사용해서는 안 되는 용도를 정한 OpenAI 이용 정책을 준수하십시오.
            """
        ),
    ),
    Section(
        slug="contract-based-differences",
        title="계약에 따른 차이",
        order=6,
        body=_text(
            """
            지금까지의 내용은 모두 OpenAI가 API 고객에게 적용하는 기본 조건입니다. 조직이
            별도로 체결한 계약에 따라 이 조건이 변경되거나 추가될 수 있습니다.

            - 데이터 처리 부속서(DPA): OpenAI는 GDPR 등의 의무 이행을 돕기 위해 API를
              이용하는 기업 고객에게 DPA를 제공합니다. 자체 OpenAI 계정을 보유한 조직은
              OpenAI와 직접 DPA를 체결합니다. TuneAIBot 플랫폼 계정을 이용하는 경우에는
              귀사와 TuneAIBot 간의 계약에서 귀사를 대신하여 데이터를 처리하는 방식을
              정합니다.
            - 데이터 미보관 및 악용 모니터링 조정: 이는 OpenAI가 승인한 조직에만, 대상
              엔드포인트에 한해 추가 조건과 함께 허용됩니다. 귀사의 용도에 필요하다면
              플랫폼 계정은 TuneAIBot에, 자체 계정은 OpenAI에 문의하십시오.
            - 엔터프라이즈 계약: ChatGPT Enterprise 같은 기업용 상품이나 별도로 협상한 API
              계약에는 보관 기간, 데이터 저장 위치, 보안 심사 등에 관한 추가 약정이 포함될
              수 있습니다. 체결된 계약은 일반 약관보다 우선합니다.
            - 자체 키 또는 다른 제공자: 워크스페이스에서 자체 OpenAI 키, Azure OpenAI 또는
              그 밖의 OpenAI 호환 서비스를 사용하는 경우에는 학습, 보관, 악용 모니터링에
              관한 규칙을 포함하여 해당 계정이나 제공자의 약관이 대신 적용됩니다.

            귀사 워크스페이스에 어떤 조건이 적용되는지 확실하지 않다면, 민감한 데이터를
            공유하기 전에 TuneAIBot 관리자에게 문의하십시오.
            """
        ),
    ),
)

SUMMARY = Section(
    slug="summary",
    title="요약",
    order=7,
    body=_text(
        """
        - OpenAI는 2023년 3월 1일부터, 조직이 옵트인하지 않는 한 API로 전송된 데이터로
          모델을 학습시키지 않습니다.
        - OpenAI는 악용 모니터링을 위해 API 요청과 응답을 최대 30일간 보관하며, OpenAI의
          승인을 받은 조직은 데이터 미보관을 적용받을 수 있습니다.
        - TuneAIBot은 OpenAI에 아무것도 저장하지 않습니다. 파일은 귀사 전용 데이터베이스
          스키마에서 색인되고, 관련 구절만 전송되며, 모든 호출에 store=False가 적용됩니다.
        - 개인정보는 TuneAIBot을 떠나기 전에 마스킹할 수 있고(기본값: 사용), 데이터 보관
          기간은 워크스페이스에서 정하며, 모든 호출은 내용 없이 기록됩니다.
        - 개인정보를 적법하게 공유할 책임은 귀사에 있으며, 귀사가 체결한 계약에 따라 기본
          조건이 달라질 수 있습니다.
        """
    ),
)

SECTIONS: tuple[Section, ...] = (INTRO, *POLICY_PARTS, SUMMARY)

LINKS: tuple[Link, ...] = (
    Link(
        name="API 데이터 사용 안내(Your data)",
        description=(
            "API의 입력과 출력이 어떻게 처리되는지 설명하는 OpenAI 개발자 가이드입니다. "
            "학습 활용, 악용 모니터링을 위한 보관, 데이터 미보관, 엔드포인트별 저장 항목을 "
            "다룹니다."
        ),
        url="https://platform.openai.com/docs/guides/your-data",
        order=1,
    ),
    Link(
        name="소비자 개인정보 보호(Consumer privacy)",
        description=(
            "ChatGPT 등 OpenAI 소비자용 서비스 이용자의 데이터를 OpenAI가 어떻게 다루는지, "
            "그리고 API로 전송되는 데이터와 무엇이 다른지 설명합니다."
        ),
        url="https://openai.com/consumer-privacy/",
        order=2,
    ),
    Link(
        name="기업 개인정보 보호(Enterprise privacy)",
        description=(
            "기업용 상품과 API에 대한 OpenAI의 약속을 설명합니다. 데이터 소유권, 보관 기간 "
            "관리, 암호화, 규정 준수를 다룹니다."
        ),
        url="https://openai.com/enterprise-privacy/",
        order=3,
    ),
    Link(
        name="보안 및 개인정보 보호(Security & privacy)",
        description="OpenAI의 보안 체계, 인증 현황, 개인정보 보호 약속을 개괄합니다.",
        url="https://openai.com/security-and-privacy/",
        order=4,
    ),
    Link(
        name="이용 정책(Usage policies)",
        description=(
            "OpenAI 서비스를 사용할 수 있는 용도와 사용할 수 없는 용도, 그리고 이 서비스를 "
            "기반으로 개발하는 사업자에게 OpenAI가 요구하는 사항을 정합니다."
        ),
        url="https://openai.com/policies/usage-policies/",
        order=5,
    ),
    Link(
        name="모델 성능 개선에 데이터가 사용되는 방식",
        description=(
            "데이터가 모델 개선에 사용될 수 있는 경우와 이를 거부(옵트아웃)하는 방법을 "
            "설명하는 OpenAI 도움말 문서입니다."
        ),
        url=(
            "https://help.openai.com/en/articles/"
            "5722486-how-your-data-is-used-to-improve-model-performance"
        ),
        order=6,
    ),
)
