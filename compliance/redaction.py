"""PII redaction for every request that leaves for the model API.

Built on Microsoft Presidio's pattern recognizers and run fully offline: the
analyzer gets a word splitter instead of a spaCy model (nothing downloaded) and
the e-mail check reads the public-suffix snapshot bundled with ``tldextract``
instead of fetching the live list.

Each redacted value becomes a numbered placeholder such as ``<EMAIL_1>``. The
same value always gets the same placeholder within a conversation: the caller
persists ``RedactionResult.mapping`` (placeholder -> original, plain JSON) and
passes it back in with the next message, and ``restore`` puts the originals
back into the model's answer.

The kinds of data, their labels and placeholder labels live in
``compliance.entities`` (importable without Presidio).

Text written in Korean, Japanese or Chinese has no spaces between a value and
its particle ("…@example.com로", "…4328입니다"), so every pattern here treats
Hangul, kana, kanji and CJK punctuation as a boundary, the way ``\\b`` treats a
space, while still never splitting a run of digits or Latin letters. Full-width
forms ("０９０－１２３４－５６７８") are folded to ASCII for matching only; the
placeholders replace the text as written.

Known limit: a text that already contains a placeholder-shaped string such
as "<EMAIL_1>" is passed through, and ``restore`` will fill it in.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import (
    ContextAwareEnhancer,
    LemmaContextAwareEnhancer,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    EsNifRecognizer,
    FiPersonalIdentityCodeRecognizer,
    IbanRecognizer,
    IpRecognizer,
    ItFiscalCodeRecognizer,
    KrBrnRecognizer,
    KrDriverLicenseRecognizer,
    KrFrnRecognizer,
    KrPassportRecognizer,
    KrRrnRecognizer,
    PlPeselRecognizer,
    UkNinoRecognizer,
    UsItinRecognizer,
    UsSsnRecognizer,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig
from presidio_anonymizer.entities import RecognizerResult as AnonymizerResult

from compliance.addresses import find_addresses
from compliance.entities import (
    CUSTOM_TERM,
    CUSTOM_TERM_LABEL,
    PLACEHOLDER_LABELS,
    SUPPORTED_ENTITIES,
)
from compliance.names import Member, NameMatcher, matcher_for
from compliance.people import find_people
from compliance.people import warm_up as warm_up_people
from compliance.secrets import find_secrets

__all__ = [
    "CUSTOM_TERM",
    "CUSTOM_TERM_LABEL",
    "DEFAULT_ENTITIES",
    "Member",
    "PLACEHOLDER_LABELS",
    "SUPPORTED_ENTITIES",
    "RedactedItem",
    "RedactionResult",
    "StreamRestorer",
    "redact",
    "restore",
    "warm_up",
]

DEFAULT_ENTITIES: frozenset[str] = frozenset(SUPPORTED_ENTITIES)

_ENTITY_BY_LABEL: dict[str, str] = {label: e for e, label in PLACEHOLDER_LABELS.items()}
# Found by this module's own finders, not by Presidio recognizers.
_OWN_FINDERS = frozenset({"MEMBER_NAME", "PERSON", "POSTAL_ADDRESS", "SECRET"})
# Names found in the directory or by a model share placeholders and identities.
_NAME_TYPES = frozenset({"MEMBER_NAME", "PERSON"})
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


# --- text written without spaces ------------------------------------------------

# Hangul (jamo, compatibility jamo, syllables), kana, CJK ideographs (with
# extensions and compatibility forms), CJK symbols and punctuation, and the
# half-width/full-width forms block.
_CJK_CHARS = (
    "\u1100-\u11ff\u3000-\u303f\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef\U00020000-\U0002fa1f"
)
# A character that continues a Latin word or a number: \w minus those scripts.
# Valid in both ``re`` and ``regex`` (which Presidio compiles patterns with).
_W = rf"[^\W{_CJK_CHARS}]"
# Where a token of Latin letters or digits starts and ends (what \b means
# next to one), with a Hangul, kana or kanji neighbour counting as a gap.
_WORD_START = rf"(?<!{_W})"
_WORD_END = rf"(?!{_W})"
_CJK_RE = re.compile(f"[{_CJK_CHARS}]")
_LATIN_WORD_CHAR = re.compile(_W)
# Where a sentence ends: CJK and Latin full stops, question and exclamation
# marks, line breaks ("." only before a space or a non-Latin character, so a
# domain or a decimal does not end one).
_SENTENCE_END = re.compile(r"[。．！？!?\n]|\.(?=\s|[^\x00-\x7f])")

# Full-width ASCII (U+FF01-FF5E), the ideographic space and Unicode hyphens and
# minus signs, folded one character for one so offsets stay the same.
_FOLD = str.maketrans(
    {
        **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
        "\u3000": " ",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2212": "-",
    }
)


def _fold(text: str) -> str:
    return text.translate(_FOLD)


def _cjk_boundaries(regex: str) -> str:
    """A shipped Presidio pattern with its word boundaries made CJK-aware.

    Every ``\\b`` in those patterns sits next to a digit or a Latin letter:
    at the start of the pattern or of an alternative it is where a token
    starts, anywhere else where one ends. One-sided lookarounds also run
    several times faster than a two-sided \\b rewritten by hand. Raises if a
    ``\\w`` is left over, so a Presidio upgrade that writes its boundaries
    differently fails loudly instead of leaking inside CJK text.
    """
    rewritten = regex.replace(r"[\w:]", rf"(?:{_W}|:)")
    parts = rewritten.split(r"\b")
    out = parts[0]
    for part in parts[1:]:
        if out.endswith("\\"):  # an escaped backslash followed by "b"
            out += r"\b" + part
            continue
        starts_token = out == "" or out.endswith(("(", "|", "(?:"))
        out += (_WORD_START if starts_token else _WORD_END) + part
    if r"\w" in out:
        raise ValueError(f"Cannot make this pattern CJK-aware: {regex}")
    return out


def _with_cjk_boundaries(recognizer: PatternRecognizer) -> PatternRecognizer:
    recognizer.patterns = [
        Pattern(p.name, _cjk_boundaries(p.regex), p.score) for p in recognizer.patterns
    ]
    return recognizer


# --- offline Presidio pieces --------------------------------------------------


class _TokenNlpEngine(NlpEngine):
    """Presidio NLP engine that only splits words: no model, no download.

    Pattern recognizers need no NER; the tokens feed the context enhancer
    ("ssn", "phone" next to a weak match), and the lower-cased token stands in
    for the lemma. A regular expression does that several times faster than
    even a blank spaCy pipeline, and, unlike spaCy's vocabulary, keeps nothing
    of the texts it has seen (a worker's memory would otherwise grow with
    every new word it redacts).
    """

    # Words and numbers, keeping inner dots, hyphens and apostrophes
    # ("e-mail", "555-123-4567", "don't"); any other non-space is a token.
    _TOKEN = re.compile(r"[^\W_]+(?:[.\-'’][^\W_]+)*|\S")

    def load(self) -> None:
        return None

    def is_loaded(self) -> bool:
        return True

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        matches = list(self._TOKEN.finditer(text))
        tokens = [m.group() for m in matches]
        return NlpArtifacts(
            entities=[],
            tokens=tokens,
            tokens_indices=[m.start() for m in matches],
            lemmas=[token.lower() for token in tokens],
            nlp_engine=self,
            language=language,
            scores=[],
        )

    def process_batch(
        self, texts: Iterable[str], language: str, batch_size: int = 1, n_process: int = 1,
        **kwargs: object,
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        for text in texts:
            yield text, self.process_text(text, language)

    def is_stopword(self, word: str, language: str) -> bool:
        # Presidio skips stop words when it collects context; "call" is one
        # in the usual lists. Counting every word also keeps the window tight:
        # five real tokens, not five content words.
        return False

    def is_punct(self, word: str, language: str) -> bool:
        return not any(ch.isalnum() for ch in word)

    def get_supported_entities(self) -> list[str]:
        return []

    def get_supported_languages(self) -> list[str]:
        return ["en"]


class _ContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's token-window context check, or a character window in CJK.

    Korean and Japanese glue particles to words ("주민등록번호는",
    "マイナンバーは") and Japanese and Chinese write without spaces, so a
    whole-token comparison never sees the cue. When the sentence around a
    weak match is CJK, cue words are looked for in the characters just before
    and after it, within that sentence: CJK cues as substrings, Latin ones
    ("RRN", "SSN") as whole words.
    """

    BEFORE = 30
    AFTER = 15

    def __init__(self) -> None:
        # whole_word: the stock substring mode lets "ip" match "ship".
        # "... 0519115028 as a callback number": cues follow too.
        super().__init__(context_matching_mode="whole_word", context_suffix_count=3)
        self._cues: dict[str, re.Pattern[str] | None] = {}

    def _cue_regex(self, recognizer: EntityRecognizer) -> re.Pattern[str] | None:
        if recognizer.id not in self._cues:
            words = sorted({w.lower() for w in recognizer.context or [] if w.strip()}, key=len)
            parts = [
                re.escape(w)
                if _CJK_RE.search(w)
                else rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])"
                for w in reversed(words)
            ]
            self._cues[recognizer.id] = (
                re.compile("|".join(parts), re.IGNORECASE) if parts else None
            )
        return self._cues[recognizer.id]

    def _windows(self, text: str, result: RecognizerResult) -> tuple[str, str]:
        # Within the sentence: dense CJK text puts many words in a few
        # characters, and a cue from the sentence before or after is no cue.
        before = text[max(0, result.start - self.BEFORE) : result.start]
        after = text[result.end : result.end + self.AFTER]
        return _SENTENCE_END.split(before)[-1], _SENTENCE_END.split(after, maxsplit=1)[0]

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        latin: list[RecognizerResult] = []
        cjk: list[tuple[RecognizerResult, str, str]] = []
        for result in raw_results:
            before, after = self._windows(text, result)
            if _CJK_RE.search(before) or _CJK_RE.search(after):
                # Results are made afresh for each call: no copy needed.
                cjk.append((result, before, after))
            else:
                latin.append(result)
        results = (
            super().enhance_using_context(text, latin, nlp_artifacts, recognizers, context)
            if latin
            else []
        )
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        for result, before, after in cjk:
            results.append(result)
            metadata = result.recognition_metadata or {}
            if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            cues = self._cue_regex(recognizer) if recognizer is not None else None
            found = cues and (cues.search(before) or cues.search(after))
            if not found:
                continue
            result.score = min(
                ContextAwareEnhancer.MAX_SCORE,
                max(
                    result.score + self.context_similarity_factor,
                    self.min_score_with_context_similarity,
                ),
            )
            if result.analysis_explanation is not None:
                result.analysis_explanation.set_supportive_context_word(found.group(0))
                result.analysis_explanation.set_improved_score(result.score)
        return results


# The stock EmailRecognizer calls tldextract.extract(), which fetches the
# public-suffix list over HTTP on first use. This extractor uses the snapshot
# shipped inside the package and never touches the disk cache or the network.
_OFFLINE_TLDEXTRACT = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())


class _OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail check (offline) on a pattern whose local part and
    domain stop at CJK characters: Presidio's ``\\w`` takes "주소는" and "로"
    into "주소는jane@example.com로"."""

    _SPECIALS = r"[!#$%&'*+\-/=?^`{|}~]"
    _LOCAL = rf"(?:{_W}|{_SPECIALS})"
    _LABEL = rf"{_W}+(?:-+{_W}+)*"
    PATTERNS = [
        Pattern(
            "Email (Medium)",
            rf"(?<!{_W})(?<![!#$%&'*+\-/=?^`{{|}}~])"
            rf"({_LOCAL}(?:(?:{_LOCAL}|\.)*{_LOCAL})?@{_LABEL}(?:\.{_LABEL})+)(?!{_W})",
            0.5,
        )
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLDEXTRACT(pattern_text).fqdn != ""


# Start and end of a number: not inside a Latin word or a longer number, and
# not right after a sign, slash or dot that makes it part of something else.
_NUM_START = rf"(?<!{_W})(?<![+\-./#])"
_NUM_END = r"(?![\d.,]\d|\d)"


class _OwnPatterns:
    """Mixin for a recognizer made of its class's PATTERNS and CONTEXT.

    Every message is analysed as "en" (see _recognizers), whatever language a
    Presidio recognizer defaults to. `extra` goes to the recognizer as is."""

    PATTERNS: list[Pattern]
    CONTEXT: list[str]

    def __init__(self, **extra) -> None:
        super().__init__(patterns=self.PATTERNS, context=self.CONTEXT, supported_language="en",
                         **extra)


def _real_past_date(year: int, month: int, day: int) -> bool:
    """A date that exists and is not in the future (a birth date)."""
    try:
        return dt.date(year, month, day) <= dt.date.today()
    except ValueError:
        return False


class _PhoneRecognizer(_OwnPatterns, PatternRecognizer):
    """Phone numbers by shape, not by numbering-plan validity.

    Presidio's PhoneRecognizer uses libphonenumber: at VALID leniency it skips
    the 555 range and dotted US numbers, at POSSIBLE leniency it flags dates,
    prices and order numbers, and each region costs a full scan. These shapes
    cover the formats people write. A bare run of digits looks like an order
    number, so it counts only next to a word like "phone" or "call".
    """

    _EXT = r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?"
    _START = _NUM_START
    _END = _NUM_END
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
        "text",
        "sms",
        "ring",
        "mob",
        "ph",
        # Korean, Japanese, Chinese (matched inside words, see _ContextEnhancer)
        "전화",
        "연락처",
        "휴대폰",
        "핸드폰",
        "휴대전화",
        "팩스",
        "電話",
        "携帯",
        "連絡先",
        "ファックス",
        "电话",
        "手机",
        "联系",
        "致电",
        "拨打",
        "回拨",
    ]

    _DATE_SHAPE = re.compile(r"^\d{1,4}[/\-.]\d{1,2}[/\-.]\d{1,4}$")
    _EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension)\s?\d", re.IGNORECASE)

    def __init__(self) -> None:
        super().__init__(supported_entity="PHONE_NUMBER")

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
        # written with spaces or at most one hyphen ("030-901820"). Korean and
        # Japanese numbers with two hyphens have their own recognizer.
        if body.startswith("0") and not body.startswith("00") and body.count("-") > 1:
            return True
        digits = sum(ch.isdigit() for ch in body) - (2 if body.startswith("00") else 0)
        # E.164 allows at most 15 digits. Real numbers have 9 or more (with
        # country code or trunk 0: "030 901820", "+49 30 901820"); shorter
        # runs are account numbers and references ("020-14620").
        return not 9 <= digits <= 15


class _KrJpPhoneRecognizer(_OwnPatterns, PatternRecognizer):
    """Korean, Japanese and Chinese numbers as written at home: trunk 0, two
    separators ("010-1234-5678", "02-123-4567", "03-1234-5678",
    "0466-12-3456", "0120-123-456") or none for mobiles ("01012345678"),
    Japan's bracketed area code ("03(1234)5678") and Chinese mobiles
    ("138-1234-5678"). The generic recognizer
    refuses two hyphens after a 0 (reference codes look like that in the
    West); these shapes pin down the groups instead.
    """

    _START = _NUM_START
    _END = _NUM_END
    PATTERNS = [
        # Korean mobiles 010/011/016-019; 010 also unseparated (01012345678).
        Pattern("kr_mobile", _START + r"01[016789]([ .\-])\d{3,4}\1\d{4}" + _END, 0.65),
        Pattern("kr_mobile_bare", _START + r"010\d{8}" + _END, 0.65),
        # Seoul 02, regional 031-064, internet phones 070.
        Pattern(
            "kr_landline",
            _START + r"0(?:2|[3-6][1-5]|70)([ .\-])\d{3,4}\1\d{4}" + _END,
            0.65,
        ),
        # Japanese mobiles and IP phones 070/080/090, also unseparated.
        Pattern("jp_mobile", _START + r"0[789]0([ .\-]?)\d{4}\1\d{4}" + _END, 0.65),
        # Japanese landlines: area code, exchange, 4-digit line, 10 digits in all.
        Pattern("jp_landline", _START + r"0\d{1,4}([ \-])\d{1,4}\1\d{4}" + _END, 0.6),
        Pattern("jp_landline_brackets", _START + r"0\d{1,4}\(\d{1,4}\)\d{4}" + _END, 0.6),
        # Free dial and navi dial: 0120-123-456, 0570-123-456, 0800-123-4567.
        Pattern("jp_free_dial", _START + r"0(?:120|570|800)([ \-])\d{3}\1\d{3,4}" + _END, 0.6),
        # Chinese mobiles 138-1234-5678, 138 1234 5678; bare ones need a cue
        # (an 11-digit run is also an order number).
        Pattern("cn_mobile", _START + r"1[3-9]\d([ \-])\d{4}\1\d{4}" + _END, 0.6),
        Pattern("cn_mobile_bare", _START + r"1[3-9]\d{9}" + _END, 0.35),
        # Korean company numbers 1588-1234: years look alike, so a cue is needed.
        Pattern("kr_company", _START + r"1[5-8]\d{2}-\d{4}" + _END, 0.3),
    ]

    CONTEXT = _PhoneRecognizer.CONTEXT
    _KR_LANDLINE = re.compile(r"0(?:2|[3-6][1-5]|70)([ .\-])\d{3,4}\1\d{4}")

    def __init__(self) -> None:
        super().__init__(supported_entity="PHONE_NUMBER", name="KrJpPhoneRecognizer")

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = sum(ch.isdigit() for ch in pattern_text)
        if pattern_text.startswith("1"):
            return digits not in (8, 11)
        if re.match(r"0[789]0|01[016789]", pattern_text):
            return digits not in (10, 11)
        if self._KR_LANDLINE.fullmatch(pattern_text):
            return False  # 02-123-4567 has nine digits, 031-1234-5678 eleven
        # Japanese landlines and free dial have ten; "034-91-4076" (nine) is
        # a US Social Security number.
        return digits != 10


class _CreditCardRecognizer(CreditCardRecognizer):
    """Presidio's Luhn check over wider card shapes.

    The stock pattern misses Mastercard's 2-series and JCB's 2131 prefixes,
    19-digit Visa and 12-digit Maestro numbers. Grouped forms must use one
    separator throughout, so a card followed by another number ("... 1111 25
    units") still matches on its own. Twelve digits are also a common
    reference length, so those (and zero-led numbers) need a word like "card"
    nearby.
    """

    _START = rf"(?<!{_W})(?<![\-.])"
    _END = rf"(?!{_W}|-|[.,]\d)"
    PATTERNS = [
        Pattern("card_digits", _START + r"[0-6]\d{11,18}" + _END, 0.3),
        Pattern("card_4x4", _START + r"[1-6]\d{3}([ \-])\d{4}\1\d{4}\1\d{4}" + _END, 0.3),
        Pattern("card_4x4_3", _START + r"[1-6]\d{3}([ \-])(?:\d{4}\1){3}\d{3}" + _END, 0.3),
        Pattern("card_4_6_5", _START + r"3\d{3}([ \-])\d{6}\1\d{4,5}" + _END, 0.3),
    ]
    CONTEXT = [
        *CreditCardRecognizer.CONTEXT,
        "payment",
        "paid",
        "pay",
        "charge",
        "debit",
        "카드",
        "결제",
        "カード",
        "決済",
        "卡号",
        "信用卡",
        "银行卡",
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS, context=self.CONTEXT)

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = sum(ch.isdigit() for ch in pattern_text)
        if not super().validate_result(pattern_text):
            return False
        # None keeps the pattern score (0.3), which only context can lift:
        # 12-digit Maestro, and the old 0604 Maestro range, look like ids; so
        # do 13 digits not starting with 4 (only old Visa cards had 13), which
        # a bare Korean registration number passes one time in ten.
        if digits == 13 and not pattern_text.startswith("4"):
            return None
        return True if digits >= 13 and not pattern_text.startswith("0") else None


class _IpRecognizer(IpRecognizer):
    """Presidio's IP recognizer minus four-part version numbers ("v1.2.3.4")."""

    _VERSION_BEFORE = re.compile(r"\b(?:v|version|release|build|firmware|ver\.?)\s*$", re.I)

    def __init__(self) -> None:
        super().__init__()
        _with_cjk_boundaries(self)

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


class _PlPeselRecognizer(_OwnPatterns, PlPeselRecognizer):
    # Presidio's PESEL pattern has no word boundaries, so it fires inside any
    # longer digit run (card numbers, IBANs); 1 in 10 such windows pass the
    # checksum. Bounded here.
    PATTERNS = [
        Pattern(
            "PESEL",
            _WORD_START
            + r"[0-9]{2}(?:[02468][1-9]|[13579][012])(?:0[1-9]|[12][0-9]|3[01])[0-9]{5}"
            + _WORD_END,
            0.4,
        )
    ]

    def validate_result(self, pattern_text: str) -> bool | None:
        # Presidio checks the checksum only. The birth date must also be real
        # and lie between 1900 and today (months 01-12 for the 1900s, 21-32
        # for the 2000s): Chinese mobiles (1[3-9]x xxxx xxxx) otherwise pass
        # one time in ten as PESELs of people born after 2100 or before 1900.
        if not super().validate_result(pattern_text):
            return False
        year, month, day = int(pattern_text[:2]), int(pattern_text[2:4]), int(pattern_text[4:6])
        century = {0: 1900, 1: 1900, 2: 2000, 3: 2000}.get(month // 10)
        return century is not None and _real_past_date(century + year, month % 20, day)


class _FiPersonalIdentityCodeRecognizer(FiPersonalIdentityCodeRecognizer):
    """Presidio's HETU patterns minus the one without word boundaries, which
    fires inside longer ids ("211230-7848826", a Korean registration number,
    holds a valid-looking "211230-7848")."""

    def __init__(self) -> None:
        super().__init__(supported_language="en")
        self.patterns = [p for p in self.patterns if r"\b" in p.regex]
        _with_cjk_boundaries(self)


# --- Korean and Japanese ids ---------------------------------------------------------

# Bare-digit forms of the ids below score 0.35: under the 0.5 cut, so only a
# cue word lifts them (to 0.7), and then above a bare run that merely looks
# like a phone number with a cue nearby (0.3 -> 0.65), since their date or
# check digit has been checked as well.


def _birth_date_ok(digits: str, century_by_digit: Mapping[str, int]) -> bool:
    """YYMMDD plus the century the 7th digit stands for: a real, past date."""
    century = century_by_digit.get(digits[6])
    return century is not None and _real_past_date(
        century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))


class _KrRrnRecognizer(_OwnPatterns, KrRrnRecognizer):
    """주민등록번호 YYMMDD-GNNNNNN.

    Since October 2020 the last six digits are random, so the old weighted
    check digit proves nothing about a new number. Chosen rule: the written
    form with a hyphen counts when the birth date is a real date and the 7th
    digit fits (1-4 for citizens); a passed check digit raises it to certain.
    The same 13 digits without the hyphen are as likely a barcode (Korean EAN
    codes start 880...), so they count only next to a cue such as
    "주민등록번호" or "RRN".
    """

    CENTURIES: Mapping[str, int] = {"1": 1900, "2": 1900, "3": 2000, "4": 2000}
    _DATE = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    _START = r"(?<!\d)(?<!\d[\-.])"
    _END = r"(?![\-.]?\d)"
    PATTERNS = [
        Pattern("RRN (hyphen)", _START + _DATE + r"\s?-\s?[1-4]\d{6}" + _END, 0.5),
        Pattern("RRN (bare)", _START + _DATE + r"[1-4]\d{6}" + _END, 0.35),
    ]
    CONTEXT = [
        *KrRrnRecognizer.CONTEXT,
        "주민등록번호",
        "주민번호",
        "주민등록",
        "resident registration",
        "resident number",
    ]

    def __init__(self) -> None:
        super().__init__(replacement_pairs=[("-", ""), (" ", "")])

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = EntityRecognizer.sanitize_value(pattern_text, self.replacement_pairs)
        if len(digits) != 13 or not digits.isdigit():
            return False
        if not _birth_date_ok(digits, self.CENTURIES):
            return False
        if "-" not in pattern_text:
            return None  # the pattern score (0.35): a cue word must lift it
        return True if self._validate_checksum(digits) else None


class _KrFrnRecognizer(_OwnPatterns, KrFrnRecognizer):
    """외국인등록번호: the RRN shape with 5-8 as the 7th digit, same rule."""

    CENTURIES: Mapping[str, int] = {"5": 1900, "6": 1900, "7": 2000, "8": 2000}
    PATTERNS = [
        Pattern(
            "FRN (hyphen)",
            _KrRrnRecognizer._START + _KrRrnRecognizer._DATE + r"\s?-\s?[5-8]\d{6}"
            + _KrRrnRecognizer._END,
            0.5,
        ),
        Pattern(
            "FRN (bare)",
            _KrRrnRecognizer._START + _KrRrnRecognizer._DATE + r"[5-8]\d{6}"
            + _KrRrnRecognizer._END,
            0.35,
        ),
    ]
    CONTEXT = [*KrFrnRecognizer.CONTEXT, "외국인등록", "registration card", "ARC"]

    def __init__(self) -> None:
        super().__init__(replacement_pairs=[("-", ""), (" ", "")])

    validate_result = _KrRrnRecognizer.validate_result


class _KrBrnRecognizer(_OwnPatterns, KrBrnRecognizer):
    """사업자등록번호 NNN-NN-NNNNN with its check digit (Presidio's algorithm).

    Written with hyphens and a passing check digit it is certain; ten bare
    digits pass the check one time in ten, so they need a cue word.
    """

    PATTERNS = [
        Pattern("BRN (hyphen)", r"(?<!\d)(?<!\d-)\d{3}-\d{2}-\d{5}(?!-?\d)", 0.5),
        Pattern("BRN (bare)", r"(?<!\d)(?<!\d[\-.])\d{10}(?![\-.]?\d)", 0.35),
    ]
    CONTEXT = [
        *KrBrnRecognizer.CONTEXT,
        "사업자 번호",
        "business registration",
    ]

    def validate_result(self, pattern_text: str) -> bool | None:
        if not super().validate_result(pattern_text):
            return False
        return True if "-" in pattern_text else None


class _KrPassportRecognizer(_OwnPatterns, KrPassportRecognizer):
    """여권번호. The current form (M123A4567) is distinctive on its own; the
    older one (M12345678) reads like a product code without a cue word."""

    PATTERNS = [
        Pattern("Passport (current)", r"(?<![A-Z0-9])[MSROD]\d{3}[A-Z]\d{4}(?![A-Z0-9])", 0.5),
        Pattern("Passport (previous)", r"(?<![A-Z0-9])[MSROD]\d{8}(?![A-Z0-9])", 0.3),
    ]
    CONTEXT = [*KrPassportRecognizer.CONTEXT, "여권번호", "passport no"]


class _KrDriverLicenseRecognizer(_OwnPatterns, KrDriverLicenseRecognizer):
    """운전면허번호 AA-YY-NNNNNN-CC, where AA is a numeric region code or,
    on licences issued since 2011, the region's name ("서울 12-345678-90").
    Presidio's pattern scores 0.05 and knows no region names. Twelve bare
    digits read like a tracking number, so they need a cue word."""

    REGIONS = (
        "서울|부산|경기|강원|충북|충남|전북|전남|경북|경남|제주|대구|인천|광주|대전|울산|세종"
    )
    PATTERNS = [
        Pattern(
            "Driver licence (hyphens)",
            r"(?<!\d)(?<!\d-)\d{2}-\d{2}-\d{6}-\d{2}(?!-?\d)",
            0.5,
        ),
        Pattern(
            "Driver licence (region name)",
            rf"(?:{REGIONS})\s?\d{{2}}-\d{{6}}-\d{{2}}(?!-?\d)",
            0.6,
        ),
        Pattern("Driver licence (bare)", r"(?<!\d)(?<!\d[\-.])\d{12}(?![\-.]?\d)", 0.35),
    ]
    CONTEXT = [*KrDriverLicenseRecognizer.CONTEXT, "면허", "driver", "driving licence"]

    def validate_result(self, pattern_text: str) -> bool | None:
        if _CJK_RE.match(pattern_text):
            return True
        if not super().validate_result(pattern_text):
            return False
        return None


class _JpMyNumberRecognizer(_OwnPatterns, PatternRecognizer):
    """マイナンバー (個人番号): twelve digits, the last a check digit.

    Check digit per the official rule (総務省令第85号, 2014): with P(n) the
    n-th of the first eleven digits counted from the right and Q(n) = n+1 for
    n <= 6, n-5 for n >= 7, r = sum(P(n) * Q(n)) mod 11; the check digit is 0
    when r <= 1, else 11 - r. Grouped 4-4-4 with a passing check digit it is
    certain; twelve bare digits pass one time in ten, so they need a cue word.
    """

    PATTERNS = [
        Pattern(
            "My Number (grouped)",
            r"(?<!\d)(?<!\d[ \-])\d{4}([ \-])\d{4}\1\d{4}(?![ \-]?\d)",
            0.5,
        ),
        Pattern("My Number (bare)", r"(?<!\d)(?<!\d[\-.])\d{12}(?![\-.]?\d)", 0.35),
    ]
    CONTEXT = [
        "マイナンバー",
        "個人番号",
        "マイナンバーカード",
        "my number",
        "mynumber",
        "마이넘버",
    ]

    def __init__(self) -> None:
        super().__init__(supported_entity="JP_MY_NUMBER")

    @staticmethod
    def check_digit(first_eleven: str) -> int:
        total = sum(
            int(digit) * (n + 1 if n <= 6 else n - 5)
            for n, digit in enumerate(reversed(first_eleven), start=1)
        )
        remainder = total % 11
        return 0 if remainder <= 1 else 11 - remainder

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = "".join(ch for ch in pattern_text if ch.isdigit())
        if len(digits) != 12 or self.check_digit(digits[:11]) != int(digits[11]):
            return False
        return True if digits != pattern_text else None


class _JpPassportRecognizer(_OwnPatterns, PatternRecognizer):
    """旅券番号: two letters and seven digits (TK1234567). The shape is
    common for order numbers, so it counts only next to a cue word."""

    PATTERNS = [Pattern("JP passport", r"(?<![A-Z0-9])[A-Z]{2}\d{7}(?![A-Z0-9])", 0.3)]
    CONTEXT = ["旅券", "パスポート", "旅券番号", "passport", "여권"]

    def __init__(self) -> None:
        super().__init__(supported_entity="JP_PASSPORT")


class _UsSsnRecognizer(UsSsnRecognizer):
    """Presidio's SSN shapes and checks, less its list of "sample" numbers.

    Presidio drops 123-45-6789, 987-65-4320 and 078-05-1120 as examples; the
    last was a real, issued number, and a number someone gives as their SSN
    ("My SSN is 078051120") is redacted whatever it is. Bare nine digits
    still need a cue word ("SSN", "social security")."""

    def __init__(self) -> None:
        super().__init__()
        _with_cjk_boundaries(self)

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = "".join(ch for ch in pattern_text if ch.isdigit())
        if digits in ("123456789", "987654320", "078051120"):
            separators = {ch for ch in pattern_text if ch in ".- "}
            return len(separators) > 1
        return super().invalidate_result(pattern_text)


class _SpelledEmailRecognizer(_OwnPatterns, PatternRecognizer):
    """E-mail addresses spelled out to dodge scrapers: "john.doe at example
    dot com", "jane [at] example [dot] org", "jane(at)example.co.uk".

    The "at" must be bracketed or the "dot" spelled out, and the last label
    must be a real public suffix (the offline snapshot), so "meet at home"
    or "look at page dot five" is no address. With a bare " at " the part
    before it must look like a mailbox ("john.doe", "jd42"), so "work at Acme
    dot com" is no address either (and "jdoe at example dot com" is missed)."""

    _AT = r"(?:\s*[\[(]\s*at\s*[\])]\s*|\s+at\s+)"
    _DOT = r"(?:\s*[\[(]\s*dot\s*[\])]\s*|\s+dot\s+|\.)"
    _LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    PATTERNS = [
        Pattern(
            "Spelled e-mail",
            rf"(?<!{_W})[A-Za-z0-9][A-Za-z0-9._%+\-]{{0,63}}{_AT}{_LABEL}(?:{_DOT}{_LABEL}){{1,3}}"
            rf"(?!{_W})",
            0.6,
        )
    ]
    CONTEXT: list[str] = []
    _SPELLED = re.compile(r"[\[(]\s*(?:at|dot)\s*[\])]|\sdot\s", re.IGNORECASE)
    _NORMALISE = re.compile(r"\s*[\[(]\s*(at|dot)\s*[\])]\s*|\s+(at|dot)\s+", re.IGNORECASE)

    def __init__(self) -> None:
        super().__init__(supported_entity="EMAIL_ADDRESS", name="SpelledEmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        if not self._SPELLED.search(pattern_text):
            return False
        # A bare " at " joins ordinary words too ("I work at Acme dot com"):
        # then the name before it must look like a mailbox (john.doe, j_doe, jd42).
        local, bare_at, _rest = pattern_text.partition(" at ")
        if bare_at and not re.search(r"[._+\d]", local):
            return False
        address = self._NORMALISE.sub(
            lambda m: "@" if (m.group(1) or m.group(2)).lower() == "at" else ".", pattern_text)
        if address.count("@") != 1:
            return False
        extracted = _OFFLINE_TLDEXTRACT(address.split("@", 1)[1])
        return bool(extracted.suffix and extracted.domain)


def _recognizers() -> list[EntityRecognizer]:
    return [
        _OfflineEmailRecognizer(),
        _SpelledEmailRecognizer(),
        _PhoneRecognizer(),
        _KrJpPhoneRecognizer(),
        _CreditCardRecognizer(),
        IbanRecognizer(),
        _IpRecognizer(),
        _with_cjk_boundaries(UsItinRecognizer()),
        _UsSsnRecognizer(),
        _with_cjk_boundaries(UkNinoRecognizer()),
        # Country recognizers default to their own language; every message is
        # analysed as "en" here, and the ids look the same in any language.
        _with_cjk_boundaries(EsNifRecognizer(supported_language="en")),
        ItFiscalCodeRecognizer(supported_language="en"),
        _PlPeselRecognizer(),
        _FiPersonalIdentityCodeRecognizer(),
        _KrRrnRecognizer(),
        _KrFrnRecognizer(),
        _KrBrnRecognizer(),
        _KrPassportRecognizer(),
        _KrDriverLicenseRecognizer(),
        _JpMyNumberRecognizer(),
        _JpPassportRecognizer(),
    ]


@dataclass(frozen=True)
class _Engines:
    analyzer: AnalyzerEngine
    anonymizer: AnonymizerEngine


_engines: _Engines | None = None
_engines_lock = threading.Lock()


def _get_engines() -> _Engines:
    # Building the analyzer sets up dozens of recognizers (their patterns
    # compile on first use), so it happens once per process; the lock stops
    # two threads of a worker from building it twice.
    global _engines
    if _engines is None:
        with _engines_lock:
            if _engines is None:
                registry = RecognizerRegistry(
                    recognizers=_recognizers(), supported_languages=["en"]
                )
                analyzer = AnalyzerEngine(
                    registry=registry,
                    nlp_engine=_TokenNlpEngine(),
                    supported_languages=["en"],
                    context_aware_enhancer=_ContextEnhancer(),
                )
                _engines = _Engines(analyzer=analyzer, anonymizer=AnonymizerEngine())
    return _engines


def warm_up() -> None:
    """Build the engines now (e.g. at worker start) instead of on first use."""
    _get_engines()
    warm_up_people()


# --- custom terms -------------------------------------------------------------


@lru_cache(maxsize=256)
def _term_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    # Longest first so "Acme Labs" wins over "Acme"; whitespace inside a term
    # matches any run of whitespace so line breaks don't hide a name.
    unique = {" ".join(t.split()).casefold(): " ".join(t.split()) for t in terms if t.strip()}
    if not unique:
        return None
    ordered = sorted(unique.values(), key=len, reverse=True)
    # A term is a whole word where it starts or ends with a Latin letter or
    # digit ("Acme" not in "subacme"); next to Hangul, kana or kanji, or where
    # the term itself is written in them, there are no word gaps to ask for:
    # "Acme는", "김철수님", "com蓝鳍科技" all count.
    def bounded(term: str) -> str:
        body = r"\s+".join(re.escape(word) for word in term.split(" "))
        start = rf"(?<!{_W})" if _LATIN_WORD_CHAR.match(term[0]) else ""
        end = rf"(?!{_W})" if _LATIN_WORD_CHAR.match(term[-1]) else ""
        return start + body + end

    return re.compile("|".join(bounded(term) for term in ordered), re.IGNORECASE)


def _find_terms(text: str, terms: Sequence[str]) -> list[RecognizerResult]:
    pattern = _term_regex(tuple(_fold(term) for term in terms))
    if pattern is None:
        return []
    return [RecognizerResult(CUSTOM_TERM, m.start(), m.end(), 1.0) for m in pattern.finditer(text)]


# --- placeholders -------------------------------------------------------------

_DIGIT_KEYED = {
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "US_ITIN",
    "PL_PESEL",
    "KR_RRN",
    "KR_FRN",
    "KR_BRN",
    "JP_MY_NUMBER",
}
_COMPACT_KEYED = {
    "IBAN_CODE",
    "UK_NINO",
    "ES_NIF",
    "IT_FISCAL_CODE",
    "FI_PERSONAL_IDENTITY_CODE",
    "KR_PASSPORT",
    "KR_DRIVER_LICENSE",
    "JP_PASSPORT",
}


def _identity(entity_type: str, value: str, names: NameMatcher | None = None) -> str:
    """Key under which two spellings of one value share a placeholder.

    "(555) 123-4567" and "555.123.4567", "ACME" and "Acme" are the same thing
    to the reader, so they must be the same placeholder to the model. A
    member's name in any of its forms ("김민수", "김 과장", "민수 씨") is the
    member.
    """
    value = _fold(value)
    if entity_type in _NAME_TYPES:
        member = names.member_for(value) if names is not None else ""
        if member:
            return f"PERSON:member:{member}"
        return "PERSON:" + "".join(value.split()).casefold()
    if entity_type in _DIGIT_KEYED:
        key = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    elif entity_type in _COMPACT_KEYED:
        key = re.sub(r"[\s\-]", "", value).upper()
    else:
        key = " ".join(value.split()).casefold()
    return f"{entity_type}:{key}"


class _PlaceholderBook:
    """Hands out placeholders, reusing the ones a conversation already has."""

    def __init__(self, mapping: Mapping[str, str], names: NameMatcher | None = None) -> None:
        self.mapping: dict[str, str] = dict(mapping)
        self._names = names
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
                self._by_identity.setdefault(
                    _identity(entity_type, original, names), placeholder)

    def placeholder_for(self, entity_type: str, original: str) -> str:
        key = _identity(entity_type, original, self._names)
        placeholder = self._by_identity.get(key)
        if placeholder is None and key.startswith("PERSON:member:") and self._names is not None:
            # A member comes back as their full name, whatever form was
            # written: "<PERSON_1>さん" reads "田中太郎さん", "Mr. <PERSON_1>"
            # "Mr. John Smith", never a bare family name.
            original = self._names.full_name(key.removeprefix("PERSON:member:")) or original
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
    # A secret goes first whatever else claims its text: the password in
    # "smtp://user:Pa55@mail.example.com" also reads as an e-mail address.
    ranked = sorted(
        candidates,
        key=lambda r: (r.entity_type != "SECRET", -r.score, -(r.end - r.start),
                       _PRIORITY.get(r.entity_type, 99), r.start),
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
    members: Sequence[Member] = (),
) -> RedactionResult:
    """Replace personal data in ``text`` with numbered placeholders.

    ``entities`` picks detectors from ``SUPPORTED_ENTITIES`` (None: all of
    them, an empty list: none). ``terms`` are the client's always-redact words,
    matched case-insensitively as whole words. ``mapping`` is the
    conversation's mapping from earlier calls; it is not modified.
    ``members`` is the client's directory (``compliance.names.Member``), whose
    names ``MEMBER_NAME`` finds in the forms people write.
    """
    if isinstance(terms, str) or isinstance(entities, str):
        # A lone string would be read letter by letter: "Acme" as A, c, m, e.
        raise TypeError("Pass terms and entities as lists of strings, not a single string.")
    chosen = _resolve_entities(entities)
    # Matching runs on a copy with full-width forms folded to ASCII (same
    # length, same offsets); what is replaced is the text as written.
    folded = _fold(text)
    candidates: list[RecognizerResult] = _find_terms(folded, terms)
    names = matcher_for(tuple(members)) if members and "MEMBER_NAME" in chosen else None
    if text.strip():
        candidates.extend(_find_own(folded, chosen, names))
    presidio_entities = [e for e in chosen if e not in _OWN_FINDERS]
    if presidio_entities and text.strip():
        found = _get_engines().analyzer.analyze(
            text=folded,
            language="en",
            entities=presidio_entities,
            # An explicit threshold of 0 bypasses Presidio's per-recognizer
            # thresholds; ours are applied just below, per entity type.
            score_threshold=0.0,
        )
        candidates.extend(
            r for r in found if r.score >= _MIN_SCORE.get(r.entity_type, _DEFAULT_MIN_SCORE)
        )

    book = _PlaceholderBook(mapping or {}, names)
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


def _find_own(
    text: str, chosen: Sequence[str], names: NameMatcher | None
) -> list[RecognizerResult]:
    """Names, addresses and secrets: found by this package's finders. Scores
    rank them against Presidio's: a secret (1.0) wins over the e-mail or
    phone-like run inside it, a member's name (0.95) and an address (0.9)
    over weaker pattern matches."""
    found: list[RecognizerResult] = []
    if names is not None:
        found += [RecognizerResult("MEMBER_NAME", m.start, m.end, 0.95) for m in names.find(text)]
    if "PERSON" in chosen:
        # Below a member's name (0.95): a member found both ways is a member.
        people = [RecognizerResult("PERSON", s, e, 0.85) for s, e in find_people(text)]
        # But a longer name around a member's part is someone else: "佐藤晃様"
        # is not our 晃, "Jesus Bradley" not our Bradley.
        found = [r for r in found if not any(
            p.start <= r.start and r.end <= p.end and (p.end - p.start) > (r.end - r.start)
            for p in people)]
        found += people
    if "POSTAL_ADDRESS" in chosen:
        found += [RecognizerResult("POSTAL_ADDRESS", s, e, 0.9) for s, e in find_addresses(text)]
    if "SECRET" in chosen:
        found += [RecognizerResult("SECRET", s, e, 1.0) for s, e in find_secrets(text)]
    return found


def _lookup(entity_type: str, book: _PlaceholderBook) -> Callable[[str], str]:
    return lambda original: book.placeholder_for(entity_type, original)


# The model may echo a placeholder as written, HTML-escaped, in another
# bracket style, lower-cased, or bare. Bare forms must be upper-case exactly so
# ordinary words are never rewritten.
_ECHO_RE = re.compile(
    r"(?:<|&lt;|\[|\{)\s*([A-Za-z]+(?:_[A-Za-z]+)*)_(\d+)\s*(?:>|&gt;|\]|\})"
    # Bare: Hangul, kana or kanji right before or after still count as a
    # boundary ("EMAIL_1로").
    rf"|(?<!{_W})(?<!<)([A-Z]+(?:_[A-Z]+)*)_(\d+)(?!{_W})(?!>)"
)


# Korean particles whose form depends on whether the word before ends in a
# consonant (받침): the model writes them after a placeholder without knowing
# the name ("<PERSON_1>이", "<PERSON_1>는"); restoring picks the right one.
# (after a consonant, after a vowel); 으로/로 also takes 로 after ㄹ.
_KO_PARTICLES: dict[str, tuple[str, str]] = {
    "은": ("은", "는"), "는": ("은", "는"), "이": ("이", "가"), "가": ("이", "가"),
    "을": ("을", "를"), "를": ("을", "를"), "과": ("과", "와"), "와": ("과", "와"),
    "으로": ("으로", "로"), "로": ("으로", "로"), "이랑": ("이랑", "랑"), "랑": ("이랑", "랑"),
    "아": ("아", "야"), "야": ("아", "야"),
}
_PARTICLE_RE = re.compile(
    "(?:" + "|".join(sorted(_KO_PARTICLES, key=len, reverse=True)) + ")(?![\uac00-\ud7a3])")


def _particle_after(original: str, particle: str) -> str:
    last = original[-1:] if original else ""
    if not "\uac00" <= last <= "\ud7a3":
        return particle  # a Latin name or a number: the model's choice stands
    final = (ord(last) - 0xAC00) % 28  # 0: no final consonant; 8: ㄹ
    consonant, vowel = _KO_PARTICLES[particle]
    if consonant == "으로" and final == 8:
        return "로"
    return consonant if final else vowel


def restore(text: str, *, mapping: Mapping[str, str]) -> str:
    """Put the originals back for every known placeholder in ``text``.

    Placeholders not in ``mapping`` (say the model invented ``<EMAIL_9>``)
    are left as they are. A Korean particle glued to a placeholder is made
    to fit the restored word ("<PERSON_1>이" -> "김민수가").
    """
    if not mapping:
        return text
    out: list[str] = []
    position = 0
    for match in _ECHO_RE.finditer(text):
        label = match.group(1) or match.group(3)
        number = match.group(2) or match.group(4)
        original = mapping.get(f"<{label.upper()}_{int(number)}>")
        out.append(text[position : match.start()])
        position = match.end()
        if original is None:
            out.append(match.group(0))
            continue
        out.append(original)
        particle = _PARTICLE_RE.match(text, position)
        if particle:
            out.append(_particle_after(original, particle.group(0)))
            position = particle.end()
    out.append(text[position:])
    return "".join(out)


# A tail that may still grow into a placeholder. Bounded, so at most ~45
# characters are ever held back.
_PENDING_WINDOW = 64
_PENDING_TAIL_RE = re.compile(
    # an opening bracket or "&lt;", placeholder characters, maybe a partial "&gt;"
    r"(?:(?:<|&lt;|\[|\{)\s?[A-Za-z0-9_]{0,40}\s?(?:&(?:gt?)?)?"
    # a partial "&lt;"
    r"|&(?:lt?)?"
    # an upper-case word that could become a bare "EMAIL_1"
    rf"|(?<!{_W})[A-Z][A-Z0-9_]{{0,40}}"
    # a whole placeholder, maybe with the start of a particle: the Korean
    # particle after it may still arrive and must fit the restored word
    r"|(?:<|&lt;|\[|\{)[A-Za-z_]{1,40}_\d{1,6}(?:>|&gt;|\]|\})(?:으|이)?)$"
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
