"""Seed content for the Security overview page and PDF.

Plain, framework-free data: a data migration copies it into the database, and the
PDF builder (``compliance.overview_pdf``) renders it. Section bodies use a small
Markdown subset, parsed by :func:`parse_body`: paragraphs separated by blank lines,
and bullet items on lines that start with ``- ``. Nothing else is interpreted, so
the same text renders safely as HTML (after escaping) and in the PDF.

The facts about OpenAI summarise its public API documentation (see LINKS); re-check
them against those pages whenever LAST_REVIEWED is moved forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from textwrap import dedent

__all__ = [
    "INTRO",
    "LAST_REVIEWED",
    "LINKS",
    "POLICY_PARTS",
    "SECTIONS",
    "SUMMARY",
    "BulletListBlock",
    "Link",
    "ParagraphBlock",
    "Section",
    "parse_body",
]

LAST_REVIEWED = date(2026, 11, 24)


@dataclass(frozen=True, slots=True)
class Section:
    """One titled part of the overview. ``body`` is the Markdown subset above."""

    slug: str
    title: str
    order: int
    body: str


@dataclass(frozen=True, slots=True)
class Link:
    """One row of the reference links table."""

    name: str
    description: str
    url: str
    order: int


@dataclass(frozen=True, slots=True)
class ParagraphBlock:
    text: str


@dataclass(frozen=True, slots=True)
class BulletListBlock:
    items: tuple[str, ...]


def parse_body(body: str) -> tuple[ParagraphBlock | BulletListBlock, ...]:
    """Split a section body into paragraphs and bullet lists.

    - A blank line ends the current paragraph or list.
    - A line starting with ``- `` starts a bullet item (a lone ``-`` starts an empty
      one that the next line fills).
    - Any other line continues the current paragraph or the last bullet item, as in
      Markdown, so long items may wrap over several source lines.

    Text is returned unescaped: escaping belongs to whoever renders it.
    """
    blocks: list[ParagraphBlock | BulletListBlock] = []
    paragraph: list[str] = []
    items: list[list[str]] = []

    def flush() -> None:
        if paragraph:
            blocks.append(ParagraphBlock(" ".join(paragraph)))
            paragraph.clear()
        if items:
            texts = tuple(text for text in (" ".join(parts) for parts in items) if text)
            if texts:
                blocks.append(BulletListBlock(texts))
            items.clear()

    for raw_line in (body or "").splitlines():
        line = raw_line.strip()
        if not line:
            flush()
        elif line == "-" or line.startswith("- "):
            if paragraph:
                flush()
            items.append([line[2:].strip()] if len(line) > 1 else [])
        elif items:
            items[-1].append(line)
        else:
            paragraph.append(line)
    flush()
    return tuple(blocks)


def _text(value: str) -> str:
    return dedent(value).strip()


INTRO = Section(
    slug="about",
    title="About this overview",
    order=1,
    body=_text(
        """
        TuneAIBot gives each client company its own assistant. The assistant's answers
        are written by OpenAI models, which TuneAIBot reaches through the OpenAI API. This
        overview explains what happens to the questions, instructions and documents your
        people share with the assistant: what is sent to OpenAI, what OpenAI may and may
        not do with it, how long it is kept, and which safeguards TuneAIBot adds.

        Your conversations, uploaded files and search indexes live in your company's own
        database schema, kept apart from every other client. Only what is needed to
        answer a question travels to the model, and a record of every such call is kept.

        The sections below restate OpenAI's published terms for API customers in plain
        language; they are not legal advice. Where this page and OpenAI's own documents
        differ, the documents listed under References are authoritative, and a contract
        your organization has signed can change some of the defaults described here.
        """
    ),
)

POLICY_PARTS: tuple[Section, ...] = (
    Section(
        slug="use-for-training",
        title="Use for training",
        order=2,
        body=_text(
            """
            Since 1 March 2023, OpenAI does not use data it receives through its API to
            train or improve its models. The one exception is an organization that
            explicitly opts in to share data with OpenAI. TuneAIBot's platform account
            has not opted in, and TuneAIBot never opts in on a client's behalf.

            - The rule covers everything TuneAIBot sends: users' questions, the
              instructions configured for the assistant, passages taken from your
              documents, and the answers that come back.
            - OpenAI's consumer services, such as the free and personal ChatGPT plans
              in the browser or the mobile apps, follow different rules: there,
              conversations may be used to improve models unless the user turns this
              off. Those rules do not apply to data sent through the API.
            - Your documents are not used to fine-tune a model. TuneAIBot tailors the
              assistant with its instructions and by looking up relevant passages at
              the moment a question is asked.
            - If your workspace uses your organization's own API key, the opt-in choice
              is governed by that organization's settings with OpenAI.
            """
        ),
    ),
    Section(
        slug="storage-and-retention",
        title="Storage and retention",
        order=3,
        body=_text(
            """
            OpenAI may keep API data in two ways, each for a specific reason:

            - Abuse-monitoring logs. By default, OpenAI keeps requests and responses
              for up to 30 days so that it can detect and investigate misuse of its
              service, and deletes them afterwards. It keeps them longer only when the
              law requires it.
            - Zero data retention. Organizations that OpenAI has approved for zero data
              retention have their content excluded from those logs altogether.
              Approval is granted case by case and applies to eligible endpoints.
            - Stored objects. Anything the API is explicitly asked to keep, such as
              uploaded files, vector stores and saved conversations, remains until it
              is deleted. Responses saved with OpenAI's store option (on by default in
              its Responses API) are kept for 30 days unless deleted sooner.

            TuneAIBot uses none of these stored objects. Files you upload are indexed
            inside TuneAIBot, in your company's own PostgreSQL schema, and only the
            passages relevant to a question are sent along with it. Every call is made
            with store=False, so nothing is left at OpenAI beyond its abuse-monitoring
            logs.

            - Semantic search uses a model that runs inside TuneAIBot by default, so
              document text is not sent anywhere to compute search vectors. Only if
              your workspace chooses the embeddings API instead is the text of each
              document passage (and each question) sent to OpenAI's embeddings
              endpoint; the vectors are stored in your own schema, and the same
              training and abuse-monitoring rules apply to those calls.
            - Your workspace decides how long TuneAIBot keeps conversations and uploaded
              files. When a period ends, the data is deleted automatically.
            - Every call to the model is recorded in an audit trail that shows when it
              was made and which model it went to, but never the content of the
              messages.
            """
        ),
    ),
    Section(
        slug="scope-of-use",
        title="Scope of use",
        order=4,
        body=_text(
            """
            OpenAI processes data received through the API only to deliver the service
            and keep it safe:

            - to generate the response to each request;
            - to keep the service stable and reliable, for example when investigating
              errors or performance problems;
            - to detect and investigate abuse, such as spam, fraud, attacks or breaches
              of its usage policies.

            It is not put to other uses, such as marketing, and it is not used to
            improve models unless the organization has opted in.

            Within TuneAIBot, each request carries only what the current question
            needs: the assistant's instructions, recent turns of the conversation and
            the passages retrieved from your documents. With redaction on (the
            default), the kinds of personal data your workspace selects are replaced by
            placeholders before the request leaves TuneAIBot. One client's
            conversations and documents are never included in another client's
            requests.
            """
        ),
    ),
    Section(
        slug="user-responsibility",
        title="User responsibility",
        order=5,
        body=_text(
            """
            These safeguards support your own obligations but do not replace them. Your
            organization stays responsible for the personal and confidential data it
            chooses to share with the assistant.

            - Share personal or sensitive data only where there is a business need and
              a lawful basis, in line with the GDPR or other data-protection law that
              applies to you and with your internal policies.
            - Before sharing information about other people, such as customers,
              applicants or colleagues, anonymize or pseudonymize it where you can, or
              make sure their consent or another legal basis covers the use.
            - Keep personal-data redaction switched on unless you have a clear reason
              not to. Automatic redaction lowers the risk but cannot catch every case,
              so it does not replace care by the person typing.
            - Choose retention periods that match your own records policy, and use only
              content you are entitled to use.
            - Follow OpenAI's usage policies, which describe what the service may not
              be used for.
            """
        ),
    ),
    Section(
        slug="contract-based-differences",
        title="Contract-based differences",
        order=6,
        body=_text(
            """
            Everything above describes OpenAI's default terms for API customers. An
            organization's own agreements can change or add to them:

            - Data processing addendum (DPA). OpenAI offers a DPA to business customers
              of its API to support GDPR and similar obligations. An organization that
              holds its own OpenAI account signs it with OpenAI directly; when
              TuneAIBot's platform account is used, your agreement with TuneAIBot sets
              out how your data is processed on your behalf.
            - Zero data retention and modified abuse monitoring. These are granted only
              to organizations that OpenAI approves, on eligible endpoints and under
              additional conditions. If your use case needs them, raise it with
              TuneAIBot for the platform account, or with OpenAI for your own account.
            - Enterprise agreements. Business offerings such as ChatGPT Enterprise and
              negotiated API contracts can add commitments, for instance on retention,
              data residency or security reviews. A signed contract takes precedence
              over the general terms.
            - Your own key or another provider. If your workspace uses its own OpenAI
              key, Azure OpenAI or another OpenAI-compatible service, the terms of that
              account or provider apply instead, including its rules on training,
              retention and abuse monitoring.

            If you are unsure which terms cover your workspace, ask your TuneAIBot
            administrator before sharing sensitive data.
            """
        ),
    ),
)

SUMMARY = Section(
    slug="summary",
    title="Summary",
    order=7,
    body=_text(
        """
        - Since 1 March 2023, OpenAI has not trained its models on data sent through its
          API, unless an organization opts in.
        - OpenAI keeps API requests and responses for abuse monitoring for up to 30
          days; organizations it approves can have zero data retention.
        - TuneAIBot keeps nothing at OpenAI: your files are indexed in your own database
          schema, only relevant passages are sent, and every call uses store=False.
        - Personal data can be redacted before it leaves TuneAIBot (on by default), your
          workspace chooses how long data is kept, and every call is recorded without
          its content.
        - You remain responsible for sharing personal data lawfully, and your own
          contracts may change the defaults.
        """
    ),
)

SECTIONS: tuple[Section, ...] = (INTRO, *POLICY_PARTS, SUMMARY)

LINKS: tuple[Link, ...] = (
    Link(
        name='API data usage ("Your data")',
        description=(
            "OpenAI's developer guide to how API inputs and outputs are handled: "
            "training, abuse-monitoring retention, zero data retention and what each "
            "endpoint stores."
        ),
        url="https://platform.openai.com/docs/guides/your-data",
        order=1,
    ),
    Link(
        name="Consumer privacy",
        description=(
            "How OpenAI treats data from people using ChatGPT and its other consumer "
            "services, including how that differs from data sent through the API."
        ),
        url="https://openai.com/consumer-privacy/",
        order=2,
    ),
    Link(
        name="Enterprise privacy",
        description=(
            "OpenAI's commitments for its business products and the API: data ownership, "
            "retention controls, encryption and compliance."
        ),
        url="https://openai.com/enterprise-privacy/",
        order=3,
    ),
    Link(
        name="Security & privacy",
        description=(
            "An overview of OpenAI's security program, certifications and privacy commitments."
        ),
        url="https://openai.com/security-and-privacy/",
        order=4,
    ),
    Link(
        name="Usage policies",
        description=(
            "What OpenAI's services may and may not be used for, and what OpenAI expects "
            "from those who build on them."
        ),
        url="https://openai.com/policies/usage-policies/",
        order=5,
    ),
    Link(
        name="How your data is used to improve model performance",
        description=(
            "OpenAI's help article on when data may be used to improve its models and "
            "how to opt out."
        ),
        url=(
            "https://help.openai.com/en/articles/"
            "5722486-how-your-data-is-used-to-improve-model-performance"
        ),
        order=6,
    ),
)
