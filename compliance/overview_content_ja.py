"""Japanese version of the Security overview (seed content, です/ます調).

The same facts as the English version in ``compliance.overview_content``, written
for a Japanese business reader rather than translated word by word. Section slugs,
orders and link URLs match the English ones, so staff can compare versions side
by side; the text itself is edited per language in the platform admin.
"""

from __future__ import annotations

from datetime import date

from compliance.overview_content import Labels, Link, Section, _text

LANGUAGE = "ja"
LAST_REVIEWED = date(2026, 11, 30)

LABELS = Labels(
    language_name="日本語",
    version="日本語版",
    title="TuneAIBot セキュリティ概要",
    subject="OpenAI APIに送信されるデータの取り扱い",
    page_heading="セキュリティ概要:データはモデルの学習に使われますか?",
    last_reviewed="最終確認日:{date}",
    not_reviewed="最終確認日:未確認",
    date_format="{year}年{month}月{day}日",
    download_pdf="セキュリティ概要(PDF)をダウンロード",
    languages="言語",
    references="参考資料",
    link_name="資料名",
    link_description="説明",
    link_address="リンク",
    no_content="セキュリティ概要にはまだ内容がありません。",
    workspace_heading="貴社ワークスペースの設定",
    workspace_heading_named="貴社ワークスペースの設定:{name}",
    workspace_intro=(
        "本資料の作成時点における、貴社ワークスペースのデータ取り扱いに関する設定です。"
        "設定はワークスペースの管理者が変更できます。"
    ),
    workspace_empty="このワークスペースには記録された設定がありません。",
    page="{number}ページ",
    fallback_note=(
        "セキュリティ概要の日本語版はまだ用意されていないため、英語版を表示しています。"
    ),
    unknown_language=(
        "セキュリティ概要は「{lang}」という言語では提供していません。"
        "次のいずれかを選択してください:{choices}"
    ),
)

# Japanese has no spaces between words: the source lines below are joined without
# one (see parse_body), so every wrapped line ends at a natural break and the next
# starts without a leading particle being separated by a space.

INTRO = Section(
    slug="about",
    title="本資料について",
    order=1,
    body=_text(
        """
        TuneAIBotは、お客様企業ごとに専用のアシスタントを提供しています。
        アシスタントの回答はOpenAIのモデルが作成しており、TuneAIBotはOpenAI APIを通じて
        このモデルを利用しています。本資料では、貴社の従業員がアシスタントに入力する質問、指示、
        文書がどのように扱われるかをご説明します。具体的には、OpenAIに何が送信されるか、
        OpenAIがそのデータを何に利用でき、何に利用できないか、どのくらいの期間保存されるか、
        そしてTuneAIBotがどのような保護策を加えているかを取り上げます。

        会話、アップロードされたファイル、検索インデックスは、
        他のすべてのお客様と分離された貴社専用のデータベーススキーマに保存されます。
        モデルに送信されるのは質問への回答に必要な内容だけであり、
        そうした呼び出しはすべて記録されます。

        以下の各項目は、OpenAIがAPI利用者向けに公開している規約を平易にまとめたものであり、
        法的助言ではありません。本資料とOpenAIの公式文書の内容が異なる場合は、
        「参考資料」に挙げた文書が優先されます。また、貴社が締結した契約によって、
        ここで説明する標準の条件の一部が変わる場合があります。
        """
    ),
)

POLICY_PARTS: tuple[Section, ...] = (
    Section(
        slug="use-for-training",
        title="学習への利用",
        order=2,
        body=_text(
            """
            OpenAIは2023年3月1日以降、APIを通じて受け取ったデータをモデルの学習や改善に利用して
            いません。唯一の例外は、組織がOpenAIとのデータ共有を明示的に選択(オプトイン)した
            場合です。TuneAIBotのプラットフォームアカウントはオプトインしておらず、
            TuneAIBotがお客様に代わってオプトインすることもありません。

            - この原則は、TuneAIBotが送信するすべてのデータに適用されます。利用者の質問、
              アシスタントに設定された指示、貴社の文書から抜き出した箇所、
              そしてモデルから返される回答が含まれます。
            - ブラウザやモバイルアプリで利用する無料版・個人向けのChatGPTなど、
              OpenAIの一般消費者向けサービスには別の規則が適用されます。これらのサービスでは、
              利用者が設定で無効にしない限り、会話がモデルの改善に使われることがあります。
              この規則はAPI経由で送信されるデータには適用されません。
            - 貴社の文書がモデルのファインチューニングに使われることはありません。TuneAIBotは、
              指示の設定と、質問を受けた時点で関連する箇所を検索して添えることによって、
              アシスタントを貴社向けに調整しています。
            - ワークスペースで貴社組織独自のAPIキーを使用している場合、
              オプトインの有無はその組織がOpenAIで行っている設定に従います。
            """
        ),
    ),
    Section(
        slug="storage-and-retention",
        title="データの保存と保持期間",
        order=3,
        body=_text(
            """
            OpenAIがAPIのデータを保持するのは次の場合で、それぞれに明確な目的があります。

            - 不正利用監視のためのログ:OpenAIは標準では、サービスの不正利用を検知・調査するため
              に、リクエストとレスポンスを最大30日間保持し、その後削除します。
              それより長く保持するのは、法律で義務付けられている場合に限られます。
            - データ保持ゼロ(Zero Data Retention):OpenAIからデータ保持ゼロの承認を受けた組織は
              、コンテンツがこれらのログの対象から完全に外れます。承認は個別の審査を経て行われ、
              対象となるエンドポイントにのみ適用されます。
            - 保存オブジェクト:アップロードされたファイル、ベクトルストア、保存された会話など、
              APIに明示的に保存を指示したものは、削除されるまで残ります。
              OpenAIのstoreオプション(Responses APIでは標準で有効)で保存されたレスポンスは、
              先に削除されない限り30日間保持されます。

            TuneAIBotは、こうした保存オブジェクトを一切使用していません。
            アップロードされたファイルはTuneAIBotの内部、つまり貴社専用のPostgreSQLスキーマで
            インデックス化され、質問に関連する箇所だけが質問とともに送信されます。
            すべての呼び出しはstore=Falseで行われるため、不正利用監視のログ以外にOpenAI側に残る
            ものはありません。

            - セマンティック検索では、標準でTuneAIBotの内部で動作するモデルを使用しているため、
              検索用のベクトルの計算にあたって文書のテキストが外部に送信されることはありません。
              ワークスペースで埋め込み(Embeddings)APIの使用を選択した場合に限り、
              文書の各箇所(および各質問)のテキストがOpenAIの埋め込みエンドポイントに
              送信されます。ベクトルは貴社のスキーマに保存され、
              この呼び出しにも学習と不正利用監視に関する同じ規則が適用されます。
            - TuneAIBotが会話やアップロードされたファイルを保持する期間は、
              ワークスペースで設定します。期間が終了すると、データは自動的に削除されます。
            - モデルの呼び出しはすべて監査証跡に記録されます。
              監査証跡には呼び出しの日時と送信先のモデルが記録されますが、
              メッセージの内容は記録されません。
            """
        ),
    ),
    Section(
        slug="scope-of-use",
        title="利用目的の範囲",
        order=4,
        body=_text(
            """
            OpenAIは、APIで受け取ったデータを、サービスの提供と安全の確保のためにのみ処理します。

            - 各リクエストに対する回答を生成するため
            - エラーや性能上の問題の調査など、サービスを安定して運用するため
            - スパム、詐欺、攻撃、利用ポリシー違反などの不正利用を検知・調査するため

            マーケティングなど、これ以外の目的には使われません。また、
            組織がオプトインしない限り、モデルの改善にも使われません。

            TuneAIBotでは、各リクエストに含まれるのは、その時点の質問に必要な内容だけです。
            具体的には、アシスタントへの指示、会話の直近のやり取り、
            貴社の文書から検索した関連箇所です。個人情報のマスキング(標準で有効)を使用すると、
            ワークスペースで選択した種類の個人情報が、リクエストがTuneAIBotから送信される前に
            置換用の記号に置き換えられます。あるお客様の会話や文書が、
            他のお客様のリクエストに含まれることはありません。
            """
        ),
    ),
    Section(
        slug="user-responsibility",
        title="利用者の責任",
        order=5,
        body=_text(
            """
            これらの保護策は、貴社が義務を果たすための支えとなるものですが、
            義務そのものに代わるものではありません。アシスタントと共有することを選んだ個人情報や
            機密情報については、引き続き貴社が責任を負います。

            - 個人情報や機微な情報は、業務上の必要性と法的根拠がある場合に限って共有し、
              GDPRや個人情報保護法など貴社に適用されるデータ保護法令、
              および社内規程に従ってください。
            - 顧客、応募者、同僚など他者に関する情報を共有する前に、
              可能な限り匿名化または仮名化してください。それができない場合は、
              本人の同意その他の法的根拠があることを確認してください。
            - 明確な理由がない限り、個人情報のマスキングは有効のままにしてください。
              自動マスキングはリスクを下げますが、すべてのケースを検出できるわけではないため、
              入力する方ご自身の注意に代わるものではありません。
            - 保持期間は貴社の文書管理規程に合わせて設定し、利用する権利のあるコンテンツのみを
              使用してください。
            - サービスを利用してはならない用途を定めたOpenAIの利用ポリシーに従ってください。
            """
        ),
    ),
    Section(
        slug="contract-based-differences",
        title="契約による違い",
        order=6,
        body=_text(
            """
            ここまでの説明は、すべてOpenAIがAPI利用者に適用する標準の条件です。
            組織が個別に締結する契約によって、これらの条件が変更または追加される場合があります。

            - データ処理補遺(DPA):OpenAIは、GDPRなどへの対応を支援するため、
              APIを利用する法人顧客にDPAを提供しています。自社のOpenAIアカウントを持つ組織は、
              OpenAIと直接DPAを締結します。TuneAIBotのプラットフォームアカウントを利用する場合は
              、貴社とTuneAIBotとの契約において、貴社に代わってデータを処理する方法を定めます。
            - データ保持ゼロと不正利用監視の変更:これらは、OpenAIが承認した組織に対してのみ、
              対象のエンドポイントで追加の条件のもとに認められます。貴社の用途で必要な場合は、
              プラットフォームアカウントについてはTuneAIBotに、
              自社アカウントについてはOpenAIにご相談ください。
            - エンタープライズ契約:ChatGPT Enterpriseなどの法人向けサービスや個別に交渉したAPI
              契約では、保持期間、データの保存場所、セキュリティ審査などについて追加の取り決めが
              設けられることがあります。締結済みの契約は一般の規約に優先します。
            - 独自のキーや他のプロバイダー:ワークスペースで独自のOpenAIキー、Azure OpenAI、
              またはその他のOpenAI互換サービスを使用している場合は、学習、保持、
              不正利用監視に関する規則も含め、そのアカウントやプロバイダーの規約が代わりに適用さ
              れます。

            貴社のワークスペースにどの条件が適用されるか不明な場合は、
            機密性の高いデータを共有する前に、TuneAIBotの管理者にお問い合わせください。
            """
        ),
    ),
)

SUMMARY = Section(
    slug="summary",
    title="まとめ",
    order=7,
    body=_text(
        """
        - OpenAIは2023年3月1日以降、組織がオプトインしない限り、
          APIで送信されたデータをモデルの学習に使用していません。
        - OpenAIは不正利用監視のためにAPIのリクエストとレスポンスを最大30日間保持します。
          OpenAIが承認した組織は、データ保持ゼロの適用を受けられます。
        - TuneAIBotはOpenAI側に何も保存しません。ファイルは貴社専用のデータベーススキーマで
          インデックス化され、関連する箇所だけが送信され、すべての呼び出しでstore=Falseが使われます
          。
        - 個人情報はTuneAIBotから送信される前にマスキングでき(標準で有効)、
          データの保持期間はワークスペースで設定でき、すべての呼び出しは内容を含まずに記録されま
          す。
        - 個人情報を適法に共有する責任は貴社にあり、貴社が締結した契約によって標準の条件が変わる
          場合があります。
        """
    ),
)

SECTIONS: tuple[Section, ...] = (INTRO, *POLICY_PARTS, SUMMARY)

LINKS: tuple[Link, ...] = (
    Link(
        name="APIデータの利用について(Your data)",
        description=(
            "APIの入力と出力がどのように扱われるかを説明するOpenAIの開発者向けガイドです。"
            "学習への利用、不正利用監視のための保持、データ保持ゼロ、エンドポイントごとの保存内容を"
            "取り上げています。"
        ),
        url="https://platform.openai.com/docs/guides/your-data",
        order=1,
    ),
    Link(
        name="一般消費者向けのプライバシー(Consumer privacy)",
        description=(
            "ChatGPTなどOpenAIの一般消費者向けサービスの利用者のデータがどのように扱われるか、"
            "またAPIで送信されるデータとの違いを説明しています。"
        ),
        url="https://openai.com/consumer-privacy/",
        order=2,
    ),
    Link(
        name="法人向けのプライバシー(Enterprise privacy)",
        description=(
            "法人向けサービスとAPIに関するOpenAIの取り組みを説明しています。"
            "データの所有権、保持期間の管理、暗号化、コンプライアンスを取り上げています。"
        ),
        url="https://openai.com/enterprise-privacy/",
        order=3,
    ),
    Link(
        name="セキュリティとプライバシー(Security & privacy)",
        description="OpenAIのセキュリティ体制、認証の取得状況、プライバシーに関する取り組みの概要です。",
        url="https://openai.com/security-and-privacy/",
        order=4,
    ),
    Link(
        name="利用ポリシー(Usage policies)",
        description=(
            "OpenAIのサービスを利用できる用途とできない用途、"
            "およびサービスを基に開発する事業者にOpenAIが求める事項を定めています。"
        ),
        url="https://openai.com/policies/usage-policies/",
        order=5,
    ),
    Link(
        name="モデルの性能向上へのデータの利用について",
        description=(
            "データがモデルの改善に使われる条件と、それを拒否(オプトアウト)する方法を"
            "説明するOpenAIのヘルプ記事です。"
        ),
        url=(
            "https://help.openai.com/en/articles/"
            "5722486-how-your-data-is-used-to-improve-model-performance"
        ),
        order=6,
    ),
)
