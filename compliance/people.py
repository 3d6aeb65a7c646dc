"""Names of other people (not the client's members): customers, candidates,
suppliers' staff, written in Korean, Japanese or English.

- Japanese: the dictionary GiNZA tokenizes with (SudachiPy with
  SudachiDict core), which tags family and given names (名詞-固有名詞-人名-
  姓/名). A family name followed by a given name, or by an honorific or title
  (さん, 様, 部長...), is a person; "山田うどん" or "田中町" is not. GiNZA's own
  neural NER was measured too: about a second of CPU per 2,000 characters
  on this machine, too slow for the request path, for little gain over the
  dictionary's name tags.
- Korean: Kiwi (kiwipiepy) tags proper nouns (NNP) without telling people
  from places and companies, so a proper noun counts as a person when it
  starts with a common family name and has three syllables ("오건우"), or is
  followed by a title or form of address ("한결 씨", "남궁민 대리").
- English: no offline model worth its cost was found (spaCy's English models
  are not on the package index); a capitalised name after a title ("Mr.
  Alan Turing", "Dr Chen") counts.

Models load once per process, on first use (Kiwi takes a few seconds); a
missing package only switches its language off, with a warning.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

from compliance.names import EN_TITLES, JA_SUFFIXES, KO_TITLES

__all__ = ["find_people", "warm_up"]

logger = logging.getLogger(__name__)

_KANA = re.compile("[\u3040-\u30ff]")
_HANGUL = re.compile("[\uac00-\ud7a3]")
# The most common Korean family names (about 90% of people), one syllable each.
KO_SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민"
    "진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부"
)
KO_COMPOUND_SURNAMES = ("남궁", "제갈", "선우", "황보", "독고", "사공", "서문")
_KO_AFTER_NAME = re.compile(
    r"\s?(?:" + "|".join(sorted(KO_TITLES, key=len, reverse=True)) + r")"
    r"(?=[^\uac00-\ud7a3]|$|님|께|은|는|이|가|을|를|에|과|와|의|도|한테|으로|로|만)")
# Last syllables of places and organisations that Kiwi also tags NNP.
_KO_PLACE_ENDINGS = frozenset(
    "역시구동도군읍면리로길산강천사원관청국부처대당점소교회단협실팀과")
_JA_AFTER_NAME = tuple(sorted(JA_SUFFIXES, key=len, reverse=True))
_EN_TITLED = re.compile(
    r"(?<![A-Za-z])(?:" + "|".join(EN_TITLES) + r")\.?\s+"
    r"(?P<name>[A-Z][a-z'’\-]+(?:\s[A-Z][a-z'’\-]+)?)(?![A-Za-z])")

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _sudachi():
    try:
        from sudachipy import Dictionary, SplitMode
    except ImportError:  # pragma: no cover - the dependency is declared
        logger.warning("SudachiPy is not installed: Japanese names of other people are not found.")
        return None
    return Dictionary(dict="core").create(SplitMode.C)


@lru_cache(maxsize=1)
def _kiwi():
    try:
        from kiwipiepy import Kiwi
    except ImportError:  # pragma: no cover - the dependency is declared
        logger.warning("Kiwi is not installed: Korean names of other people are not found.")
        return None
    return Kiwi()


def warm_up() -> None:
    """Load the models now (at worker start) instead of on the first message."""
    _sudachi()
    _kiwi()


def _japanese(text: str) -> list[tuple[int, int]]:
    tokenizer = _sudachi()
    if tokenizer is None:
        return []
    with _lock:  # a SudachiPy tokenizer is not shared between threads
        morphemes = [(m.begin(), m.end(), m.part_of_speech()) for m in tokenizer.tokenize(text)]
    spans = []
    index = 0
    while index < len(morphemes):
        start, end, pos = morphemes[index]
        kind = pos[3] if pos[2] == "人名" else ""
        following = morphemes[index + 1] if index + 1 < len(morphemes) else None
        if kind == "姓" and following and following[2][2:4] == ("人名", "名"):
            spans.append((start, following[1]))
            index += 2
            continue
        if kind in ("姓", "名") and text.startswith(_JA_AFTER_NAME, end):
            spans.append((start, end))
        index += 1
    return spans


_KO_TITLE_SET = frozenset(KO_TITLES)
_SENTENCE = re.compile(r"[^.!?。\n]+[.!?。\n]?")
_KO_CANDIDATE = re.compile(
    rf"(?<![\uac00-\ud7a3])(?:{'|'.join(KO_COMPOUND_SURNAMES)}|[{''.join(sorted(KO_SURNAMES))}])"
    r"[\uac00-\ud7a3]{2}(?:[은는이가을를의와과도에께]|님|씨)?(?![\uac00-\ud7a3])")
_KO_TITLED_NAME = re.compile(
    rf"(?<![\uac00-\ud7a3])[{''.join(sorted(KO_SURNAMES))}][\uac00-\ud7a3]{{2}}"
    rf"(?={_KO_AFTER_NAME.pattern})")


def _korean(text: str) -> list[tuple[int, int]]:
    # A family name and two syllables before a title or form of address is a
    # name whatever Kiwi makes of it ("서영희 님", "박상철 과장").
    spans = [m.span() for m in _KO_TITLED_NAME.finditer(text)
             if m.group()[1:] not in _KO_TITLE_SET]  # "이부장": 이 + 부장, no 이부
    kiwi = _kiwi()
    if kiwi is None:
        return spans
    # Kiwi reads only the sentences where a name can be: a word of three
    # syllables (four with a compound family name) starting with a family
    # name, then a particle or no more Hangul. Most sentences have none, and
    # Kiwi costs ~15 ms per 1,000 characters it reads.
    for offset, sentence in _candidate_sentences(text):
        spans += _kiwi_names(kiwi, text, offset, sentence)
    return spans


def _candidate_sentences(text: str) -> list[tuple[int, str]]:
    found = []
    for match in _SENTENCE.finditer(text):
        if _KO_CANDIDATE.search(match.group()):
            found.append((match.start(), match.group()))
    return found


def _kiwi_names(kiwi, text: str, offset: int, sentence: str) -> list[tuple[int, int]]:
    spans = []
    for token in kiwi.tokenize(sentence):
        if token.tag != "NNP":
            continue
        form, start = token.form, offset + token.start
        end = start + token.len
        if not (2 <= len(form) <= 4 and all("\uac00" <= ch <= "\ud7a3" for ch in form)):
            continue
        titled = bool(_KO_AFTER_NAME.match(text, end))
        if not titled and form[-1] in _KO_PLACE_ENDINGS:
            continue  # 강남역, 서울시, 한강공원: a place or an organisation
        surname = form.startswith(KO_COMPOUND_SURNAMES) or form[0] in KO_SURNAMES
        if form[1:] in _KO_TITLE_SET:
            continue
        if surname and (len(form) == 3 or titled):
            spans.append((start, end))
    return spans


def find_people(text: str) -> list[tuple[int, int]]:
    """(start, end) of other people's names in ``text``."""
    spans = [m.span("name") for m in _EN_TITLED.finditer(text)]
    if _KANA.search(text):
        spans += _japanese(text)
    if _HANGUL.search(text):
        spans += _korean(text)
    return spans
