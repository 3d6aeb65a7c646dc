"""PII redaction for every request that leaves for the model API.

Built on Microsoft Presidio's pattern recognizers and run fully offline: the
analyzer gets a blank spaCy pipeline (tokenizer only, nothing downloaded) and
the e-mail check reads the public-suffix snapshot bundled with ``tldextract``
instead of fetching the live list.

Each redacted value becomes a numbered placeholder such as ``<EMAIL_1>``. The
same value always gets the same placeholder within a conversation: the caller
persists ``RedactionResult.mapping`` (placeholder -> original, plain JSON) and
passes it back in with the next message, and ``restore`` puts the originals
back into the model's answer.

Placeholder labels (entity type -> label in ``<LABEL_n>``):

    EMAIL_ADDRESS -> EMAIL        US_ITIN -> ITIN
    PHONE_NUMBER  -> PHONE        US_SSN -> SSN
    CREDIT_CARD   -> CARD         UK_NINO -> NINO
    IBAN_CODE     -> IBAN         ES_NIF -> NIF
    IP_ADDRESS    -> IP           IT_FISCAL_CODE -> CODICE_FISCALE
    CUSTOM_TERM   -> TERM         PL_PESEL -> PESEL
                                  FI_PERSONAL_IDENTITY_CODE -> HETU

Known limit: a text that already contains a placeholder-shaped string such
as "<EMAIL_1>" is passed through, and ``restore`` will fill it in.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import spacy
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SlimSpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    EsNifRecognizer,
    FiPersonalIdentityCodeRecognizer,
    IbanRecognizer,
    IpRecognizer,
    ItFiscalCodeRecognizer,
    PlPeselRecognizer,
    UkNinoRecognizer,
    UsItinRecognizer,
    UsSsnRecognizer,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig
from presidio_anonymizer.entities import RecognizerResult as AnonymizerResult
from spacy.tokens import Doc

__all__ = [
    "CUSTOM_TERM",
    "CUSTOM_TERM_LABEL",
    "DEFAULT_ENTITIES",
    "PLACEHOLDER_LABELS",
    "SUPPORTED_ENTITIES",
    "RedactedItem",
    "RedactionResult",
    "StreamRestorer",
    "redact",
    "restore",
    "warm_up",
]

CUSTOM_TERM = "CUSTOM_TERM"
CUSTOM_TERM_LABEL = "Term from your redaction list"

# Entity type -> label shown on the tenant's data-controls page. The order is
# also the tie-break when two detectors claim the same span with equal
# confidence: the more specific type listed first wins (ITIN before SSN, since
# both share the ddd-dd-dddd shape).
SUPPORTED_ENTITIES: dict[str, str] = {
    "EMAIL_ADDRESS": "E-mail addresses",
    "PHONE_NUMBER": "Phone numbers",
    "CREDIT_CARD": "Payment card numbers",
    "IBAN_CODE": "Bank account numbers (IBAN)",
    "IP_ADDRESS": "IP addresses",
    "US_ITIN": "US taxpayer numbers (ITIN)",
    "US_SSN": "US Social Security numbers",
    "UK_NINO": "UK National Insurance numbers",
    "ES_NIF": "Spanish tax ids (NIF/DNI)",
    "IT_FISCAL_CODE": "Italian fiscal codes (codice fiscale)",
    "PL_PESEL": "Polish national ids (PESEL)",
    "FI_PERSONAL_IDENTITY_CODE": "Finnish personal identity codes (HETU)",
}
DEFAULT_ENTITIES: frozenset[str] = frozenset(SUPPORTED_ENTITIES)

# Short labels keep prompts readable and cost fewer tokens than Presidio's
# entity names; every label is unique so a placeholder names its type.
PLACEHOLDER_LABELS: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
    "US_ITIN": "ITIN",
    "US_SSN": "SSN",
    "UK_NINO": "NINO",
    "ES_NIF": "NIF",
    "IT_FISCAL_CODE": "CODICE_FISCALE",
    "PL_PESEL": "PESEL",
    "FI_PERSONAL_IDENTITY_CODE": "HETU",
    CUSTOM_TERM: "TERM",
}
_ENTITY_BY_LABEL: dict[str, str] = {label: e for e, label in PLACEHOLDER_LABELS.items()}
_PRIORITY: dict[str, int] = {e: i for i, e in enumerate([CUSTOM_TERM, *SUPPORTED_ENTITIES])}

# Below these scores a candidate is dropped. 0.5 keeps every checksum- or
# format-backed match (Presidio scores a passed checksum 1.0) and drops the
# "very weak" bare-digit patterns unless a context word lifts them. US_SSN is
# lower so "SSN: 078051121"-style bare numbers count when "ssn" is near.
_DEFAULT_MIN_SCORE = 0.5
_MIN_SCORE: dict[str, float] = {"US_SSN": 0.4}

_PLACEHOLDER_RE = re.compile(r"<([A-Z]+(?:_[A-Z]+)*)_(\d+)>")


class RedactedItem(NamedTuple):
    """One value removed from the text; offsets refer to the input text."""

    entity_type: str
    placeholder: str
    original: str
    start: int
    end: int


@dataclass(frozen=True)
class RedactionResult:
    """What ``redact`` did to one text.

    ``mapping`` holds every placeholder known to the conversation (the ones
    passed in plus new ones); ``counts`` and ``items`` describe this text only.
    """

    text: str
    mapping: dict[str, str]
    counts: dict[str, int]
    items: list[RedactedItem]


# --- offline Presidio pieces --------------------------------------------------


class _BlankSpacyNlpEngine(SlimSpacyNlpEngine):
    """Presidio NLP engine on ``spacy.blank``: tokens only, no model download.

    Pattern recognizers need no NER; the tokens feed the context enhancer
    ("ssn", "phone" next to a weak match). A blank pipeline has no lemmatizer,
    so the lower-cased token stands in for the lemma.
    """

    def __init__(self) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": "blank:en"}], auto_download=False
        )

    def load(self) -> None:
        self.nlp = {"en": spacy.blank("en")}

    def is_stopword(self, word: str, language: str) -> bool:
        # Presidio skips stop words when it collects context, and spaCy lists
        # "call" as one. Counting every word also keeps the window tight:
        # five real tokens, not five content words.
        return False

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.lower_ for token in doc],
            nlp_engine=self,
            language=language,
            scores=[],
        )


# The stock EmailRecognizer calls tldextract.extract(), which fetches the
# public-suffix list over HTTP on first use. This extractor uses the snapshot
# shipped inside the package and never touches the disk cache or the network.
_OFFLINE_TLDEXTRACT = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())


class _OfflineEmailRecognizer(EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLDEXTRACT(pattern_text).fqdn != ""


class _PhoneRecognizer(PatternRecognizer):
    """Phone numbers by shape, not by numbering-plan validity.

    Presidio's PhoneRecognizer uses libphonenumber: at VALID leniency it skips
    the 555 range and dotted US numbers, at POSSIBLE leniency it flags dates,
    prices and order numbers, and each region costs a full scan. These shapes
    cover the formats people write. A bare run of digits looks like an order
    number, so it counts only next to a word like "phone" or "call".
    """

    _EXT = r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?"
    _START = r"(?<![\w+\-./#])"
    _END = r"(?![\d.,]\d|\d)"
    PATTERNS = [
        # +44 20 7946 0958, +1-207-843-9150x008, +33 (0)6 44 83 37 88, +442074960666
        Pattern(
            "international",
            _START + r"\+[1-9]\d{0,3}(?:[ .\-/]?(?:\(\d{1,4}\)|\d{1,5})){1,7}" + _EXT + _END,
            0.6,
        ),
        # 0049 30 901820, 001-335-504-9258: the 00 dialling prefix. Unlike "+",
        # a leading 00 also starts padded ids, so a separator must follow.
        Pattern(
            "international_00",
            _START + r"00[1-9]\d{0,3}(?:[ .\-/](?:\(\d{1,4}\)|\d{1,5})){1,7}" + _EXT + _END,
            0.6,
        ),
        # (555) 123-4567, 555.123.4567, 555-123-4567, 1-555-123-4567
        Pattern(
            "north_american",
            _START + r"(?:1[ .\-])?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}" + _EXT + _END,
            0.6,
        ),
        # 020 7946 0958, 030/901820, 06958 96935, 04 15 39 15 00 (trunk prefix 0)
        Pattern(
            "national_grouped",
            _START + r"0\d{1,4}(?:[ \-/]\d{2,8}){1,4}" + _EXT + _END,
            0.55,
        ),
        # (0114) 4960907, (02328) 60129, (01632) 960 788
        Pattern(
            "national_area_in_brackets",
            _START + r"\(0\d{1,4}\)\s?\d{2,8}(?:[ \-]\d{2,8}){0,2}" + _EXT + _END,
            0.6,
        ),
        # 04.15.39.15.00 (French dotted pairs)
        Pattern("national_dotted_pairs", _START + r"0\d(?:\.\d{2}){4}" + _END, 0.6),
        # 5551234567, 01154960500, 097525899: plausible only with a context word
        Pattern("bare_digits", _START + r"\d{9,12}" + _END, 0.3),
    ]
    CONTEXT = [
        "phone",
        "telephone",
        "tel",
        "mobile",
        "cell",
        "call",
        "callback",
        "fax",
        "whatsapp",
        "reach",
        "contact",
        "dial",
        "landline",
        "hotline",
    ]

    _DATE_SHAPE = re.compile(r"^\d{1,4}[/\-.]\d{1,2}[/\-.]\d{1,4}$")
    _EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d", re.IGNORECASE)

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language="en",
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        if self._DATE_SHAPE.match(pattern_text):
            return True
        if pattern_text.count("(") != pattern_text.count(")"):
            return True
        body = self._EXTENSION.split(pattern_text, maxsplit=1)[0]
        if body.isdigit():
            # A bare run (the context-only pattern): its length is checked by
            # the pattern, and it may well start with 00 or 0.
            return False
        # "0722-4704-55" is a reference code; trunk-prefixed numbers are
        # written with spaces or at most one hyphen ("030-901820").
        if body.startswith("0") and not body.startswith("00") and body.count("-") > 1:
            return True
        digits = sum(ch.isdigit() for ch in body) - (2 if body.startswith("00") else 0)
        # E.164 allows at most 15 digits. Real numbers have 9 or more (with
        # country code or trunk 0: "030 901820", "+49 30 901820"); shorter
        # runs are account numbers and references ("020-14620").
        return not 9 <= digits <= 15


class _CreditCardRecognizer(CreditCardRecognizer):
    """Presidio's Luhn check over wider card shapes.

    The stock pattern misses Mastercard's 2-series and JCB's 2131 prefixes,
    19-digit Visa and 12-digit Maestro numbers. Grouped forms must use one
    separator throughout, so a card followed by another number ("... 1111 25
    units") still matches on its own. Twelve digits are also a common
    reference length, so those (and zero-led numbers) need a word like "card"
    nearby.
    """

    _START = r"(?<![\w\-.])"
    _END = r"(?![\w\-]|[.,]\d)"
    PATTERNS = [
        Pattern("card_digits", _START + r"[0-6]\d{11,18}" + _END, 0.3),
        Pattern("card_4x4", _START + r"[1-6]\d{3}([ \-])\d{4}\1\d{4}\1\d{4}" + _END, 0.3),
        Pattern("card_4x4_3", _START + r"[1-6]\d{3}([ \-])(?:\d{4}\1){3}\d{3}" + _END, 0.3),
        Pattern("card_4_6_5", _START + r"3\d{3}([ \-])\d{6}\1\d{4,5}" + _END, 0.3),
    ]
    CONTEXT = [*CreditCardRecognizer.CONTEXT, "payment", "paid", "pay", "charge", "debit"]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS, context=self.CONTEXT)

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = sum(ch.isdigit() for ch in pattern_text)
        if not super().validate_result(pattern_text):
            return False
        # None keeps the pattern score (0.3), which only context can lift:
        # 12-digit Maestro, and the old 0604 Maestro range, look like ids.
        return True if digits >= 13 and not pattern_text.startswith("0") else None


class _IpRecognizer(IpRecognizer):
    """Presidio's IP recognizer minus four-part version numbers ("v1.2.3.4")."""

    _VERSION_BEFORE = re.compile(r"\b(?:v|version|release|build|firmware|ver\.?)\s*$", re.I)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [
            r
            for r in results
            if not self._VERSION_BEFORE.search(text[max(0, r.start - 12) : r.start])
        ]


class _PlPeselRecognizer(PlPeselRecognizer):
    # Presidio's PESEL pattern has no word boundaries, so it fires inside any
    # longer digit run (card numbers, IBANs); 1 in 10 such windows pass the
    # checksum. Bounded here.
    PATTERNS = [
        Pattern(
            "PESEL",
            r"\b[0-9]{2}(?:[02468][1-9]|[13579][012])(?:0[1-9]|[12][0-9]|3[01])[0-9]{5}\b",
            0.4,
        )
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS, supported_language="en")


def _recognizers() -> list[EntityRecognizer]:
    return [
        _OfflineEmailRecognizer(),
        _PhoneRecognizer(),
        _CreditCardRecognizer(),
        IbanRecognizer(),
        _IpRecognizer(),
        UsItinRecognizer(),
        UsSsnRecognizer(),
        UkNinoRecognizer(),
        # Country recognizers default to their own language; every message is
        # analysed as "en" here, and the ids look the same in any language.
        EsNifRecognizer(supported_language="en"),
        ItFiscalCodeRecognizer(supported_language="en"),
        _PlPeselRecognizer(),
        FiPersonalIdentityCodeRecognizer(supported_language="en"),
    ]


@dataclass(frozen=True)
class _Engines:
    analyzer: AnalyzerEngine
    anonymizer: AnonymizerEngine


_engines: _Engines | None = None
_engines_lock = threading.Lock()


def _get_engines() -> _Engines:
    # Building the analyzer compiles dozens of patterns and a spaCy tokenizer
    # (~0.5 s), so it happens once per process; the lock stops two threads of
    # a worker from building it twice.
    global _engines
    if _engines is None:
        with _engines_lock:
            if _engines is None:
                registry = RecognizerRegistry(
                    recognizers=_recognizers(), supported_languages=["en"]
                )
                analyzer = AnalyzerEngine(
                    registry=registry,
                    nlp_engine=_BlankSpacyNlpEngine(),
                    supported_languages=["en"],
                    # whole_word: the stock substring mode lets "ip" match "ship".
                    context_aware_enhancer=LemmaContextAwareEnhancer(
                        context_matching_mode="whole_word",
                        # "... 0519115028 as a callback number": cues follow too.
                        context_suffix_count=3,
                    ),
                )
                _engines = _Engines(analyzer=analyzer, anonymizer=AnonymizerEngine())
    return _engines


def warm_up() -> None:
    """Build the engines now (e.g. at worker start) instead of on first use."""
    _get_engines()


# --- custom terms -------------------------------------------------------------


@lru_cache(maxsize=256)
def _term_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    # Longest first so "Acme Labs" wins over "Acme"; whitespace inside a term
    # matches any run of whitespace so line breaks don't hide a name.
    unique = {" ".join(t.split()).casefold(): " ".join(t.split()) for t in terms if t.strip()}
    if not unique:
        return None
    ordered = sorted(unique.values(), key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(word) for word in term.split(" ")) for term in ordered)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _find_terms(text: str, terms: Sequence[str]) -> list[RecognizerResult]:
    pattern = _term_regex(tuple(terms))
    if pattern is None:
        return []
    return [RecognizerResult(CUSTOM_TERM, m.start(), m.end(), 1.0) for m in pattern.finditer(text)]


# --- placeholders -------------------------------------------------------------

_DIGIT_KEYED = {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "US_ITIN", "PL_PESEL"}
_COMPACT_KEYED = {"IBAN_CODE", "UK_NINO", "ES_NIF", "IT_FISCAL_CODE", "FI_PERSONAL_IDENTITY_CODE"}


def _identity(entity_type: str, value: str) -> str:
    """Key under which two spellings of one value share a placeholder.

    "(555) 123-4567" and "555.123.4567", "ACME" and "Acme" are the same thing
    to the reader, so they must be the same placeholder to the model.
    """
    if entity_type in _DIGIT_KEYED:
        key = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    elif entity_type in _COMPACT_KEYED:
        key = re.sub(r"[\s\-]", "", value).upper()
    else:
        key = " ".join(value.split()).casefold()
    return f"{entity_type}:{key}"


class _PlaceholderBook:
    """Hands out placeholders, reusing the ones a conversation already has."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping: dict[str, str] = dict(mapping)
        self._by_identity: dict[str, str] = {}
        self._last_number: Counter[str] = Counter()
        for placeholder, original in self.mapping.items():
            match = _PLACEHOLDER_RE.fullmatch(placeholder)
            if not match:
                continue
            label, number = match.group(1), int(match.group(2))
            self._last_number[label] = max(self._last_number[label], number)
            entity_type = _ENTITY_BY_LABEL.get(label)
            if entity_type is not None:
                self._by_identity.setdefault(_identity(entity_type, original), placeholder)

    def placeholder_for(self, entity_type: str, original: str) -> str:
        key = _identity(entity_type, original)
        placeholder = self._by_identity.get(key)
        if placeholder is None:
            label = PLACEHOLDER_LABELS[entity_type]
            self._last_number[label] += 1
            placeholder = f"<{label}_{self._last_number[label]}>"
            self._by_identity[key] = placeholder
            self.mapping[placeholder] = original
        return placeholder


def _pick_non_overlapping(candidates: list[RecognizerResult]) -> list[RecognizerResult]:
    # Highest score first, then the longer span, then the more specific type.
    # A loser is dropped whole rather than trimmed, so no half-redacted value
    # is left behind; the winner covers the overlap anyway.
    ranked = sorted(
        candidates,
        key=lambda r: (-r.score, -(r.end - r.start), _PRIORITY.get(r.entity_type, 99), r.start),
    )
    # Kept spans never overlap, so ordered by start they are ordered by end
    # too, and only the two neighbours of an insertion point can collide.
    starts: list[int] = []
    kept: list[RecognizerResult] = []
    for result in ranked:
        index = bisect.bisect_left(starts, result.start)
        if index > 0 and kept[index - 1].end > result.start:
            continue
        if index < len(kept) and kept[index].start < result.end:
            continue
        starts.insert(index, result.start)
        kept.insert(index, result)
    return kept


def _resolve_entities(entities: Iterable[str] | None) -> list[str]:
    if entities is None:
        return list(SUPPORTED_ENTITIES)
    chosen = list(dict.fromkeys(entities))
    unknown = [e for e in chosen if e not in SUPPORTED_ENTITIES]
    if unknown:
        raise ValueError(
            f"Unknown PII type(s) {', '.join(unknown)}; "
            f"choose from {', '.join(SUPPORTED_ENTITIES)}."
        )
    return chosen


# --- public API ---------------------------------------------------------------


def redact(
    text: str,
    *,
    entities: Iterable[str] | None = None,
    terms: Sequence[str] = (),
    mapping: Mapping[str, str] | None = None,
) -> RedactionResult:
    """Replace personal data in ``text`` with numbered placeholders.

    ``entities`` picks detectors from ``SUPPORTED_ENTITIES`` (None: all of
    them, an empty list: none). ``terms`` are the client's always-redact words,
    matched case-insensitively as whole words. ``mapping`` is the
    conversation's mapping from earlier calls; it is not modified.
    """
    if isinstance(terms, str) or isinstance(entities, str):
        # A lone string would be read letter by letter: "Acme" as A, c, m, e.
        raise TypeError("Pass terms and entities as lists of strings, not a single string.")
    chosen = _resolve_entities(entities)
    candidates: list[RecognizerResult] = _find_terms(text, terms)
    if chosen and text.strip():
        found = _get_engines().analyzer.analyze(
            text=text,
            language="en",
            entities=chosen,
            # An explicit threshold of 0 bypasses Presidio's per-recognizer
            # thresholds; ours are applied just below, per entity type.
            score_threshold=0.0,
        )
        candidates.extend(
            r for r in found if r.score >= _MIN_SCORE.get(r.entity_type, _DEFAULT_MIN_SCORE)
        )

    book = _PlaceholderBook(mapping or {})
    selected = _pick_non_overlapping(candidates)
    if not selected:
        return RedactionResult(text=text, mapping=book.mapping, counts={}, items=[])

    items = [
        RedactedItem(
            entity_type=r.entity_type,
            placeholder=book.placeholder_for(r.entity_type, text[r.start : r.end]),
            original=text[r.start : r.end],
            start=r.start,
            end=r.end,
        )
        for r in selected
    ]
    # Presidio's anonymizer splices the text. It hands a custom operator only
    # the matched text, so the placeholders were assigned above, in reading
    # order, and each operator just looks its span's placeholder up.
    operators = {
        entity_type: OperatorConfig("custom", {"lambda": _lookup(entity_type, book)})
        for entity_type in {item.entity_type for item in items}
    }
    anonymized = _get_engines().anonymizer.anonymize(
        text=text,
        analyzer_results=[
            AnonymizerResult(r.entity_type, r.start, r.end, r.score) for r in selected
        ],
        operators=operators,
        merge_entities_with_spaces=False,
    )
    return RedactionResult(
        text=anonymized.text,
        mapping=book.mapping,
        counts=dict(Counter(item.entity_type for item in items)),
        items=items,
    )


def _lookup(entity_type: str, book: _PlaceholderBook) -> Callable[[str], str]:
    return lambda original: book.placeholder_for(entity_type, original)


# The model may echo a placeholder as written, HTML-escaped, in another
# bracket style, lower-cased, or bare. Bare forms must be upper-case exactly so
# ordinary words are never rewritten.
_ECHO_RE = re.compile(
    r"(?:<|&lt;|\[|\{)\s*([A-Za-z]+(?:_[A-Za-z]+)*)_(\d+)\s*(?:>|&gt;|\]|\})"
    r"|(?<![\w<])([A-Z]+(?:_[A-Z]+)*)_(\d+)(?![\w>])"
)


def restore(text: str, *, mapping: Mapping[str, str]) -> str:
    """Put the originals back for every known placeholder in ``text``.

    Placeholders not in ``mapping`` (say the model invented ``<EMAIL_9>``)
    are left as they are.
    """
    if not mapping:
        return text

    def original_for(match: re.Match[str]) -> str:
        label = match.group(1) or match.group(3)
        number = match.group(2) or match.group(4)
        return mapping.get(f"<{label.upper()}_{int(number)}>", match.group(0))

    return _ECHO_RE.sub(original_for, text)


# A tail that may still grow into a placeholder. Bounded, so at most ~45
# characters are ever held back.
_PENDING_WINDOW = 64
_PENDING_TAIL_RE = re.compile(
    # an opening bracket or "&lt;", placeholder characters, maybe a partial "&gt;"
    r"(?:(?:<|&lt;|\[|\{)\s?[A-Za-z0-9_]{0,40}\s?(?:&(?:gt?)?)?"
    # a partial "&lt;"
    r"|&(?:lt?)?"
    # an upper-case word that could become a bare "EMAIL_1"
    r"|(?<!\w)[A-Z][A-Z0-9_]{0,40})$"
)


class StreamRestorer:
    """``restore`` for a token stream, where a placeholder can span deltas.

    ``feed`` returns the text that is safe to show now and holds back a tail
    that may still grow into a placeholder; ``flush`` returns the rest.
    """

    def __init__(self, *, mapping: Mapping[str, str]) -> None:
        self._mapping = dict(mapping)
        self._pending = ""

    def feed(self, delta: str) -> str:
        self._pending += delta
        window = self._pending[-_PENDING_WINDOW:]
        match = _PENDING_TAIL_RE.search(window)
        cut = len(self._pending) - len(window) + match.start() if match else len(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return restore(ready, mapping=self._mapping)

    def flush(self) -> str:
        ready, self._pending = self._pending, ""
        return restore(ready, mapping=self._mapping)
