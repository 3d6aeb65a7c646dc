"""Finding the client's own people in a text: the forms people really write.

A member is a given name and a family name from the directory (sign-up,
invites, SSO claims, SCIM). From each member this builds the forms a
colleague types:

- the full name, either order for Latin script ("John Smith", "Smith, John"),
  family name first with or without a space in Hangul, kanji and kana
  ("김민수", "김 민수", "田中太郎", "田中 太郎");
- the family name with a title or honorific: "김 과장님", "김과장", "田中さん",
  "田中部長", "Mr. Smith", "Dr Smith";
- the given name with a form of address: "민수 씨", "민수님", "太郎さん";
- a Latin given name alone ("Priya"), written capitalised, when one member
  has it and it is not an everyday English word.

Korean particles glued to a name need nothing special: a name is matched
where it starts and the particle after it stays in the text ("김민수가" ->
"<PERSON_1>가").

Rules for names that are also words, measured with bench/redaction.py (the
look-alike sentences): a Korean family name that is also a word on its own
(이 "this", 전 "former", 정, 조, 주, 한, 제...) counts before a title only
when glued to it ("이과장"), since "이 과장님께" also reads "to this manager";
a Latin given name alone never counts if it is an English word ("Will",
"Grant", "Mark"); family names alone count only with a title.

Pure Python with no Django, so the engine and the bench can use it alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Member", "NameMatch", "NameMatcher", "matcher_for"]

_HANGUL = "\uac00-\ud7a3"
_KANA = "\u3040-\u30ff\u31f0-\u31ff"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_NAME_CHAR = re.compile(f"[{_HANGUL}{_KANA}{_HAN}]")
_HANGUL_RE = re.compile(f"[{_HANGUL}]")
# A Latin name starts and ends where a Latin word would (CJK counts as a gap).
_LATIN_START = r"(?<![^\W\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef])"
_LATIN_END = r"(?![^\W\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef])"

# Korean titles and forms of address written after a family name or a full
# name ("김 과장님", "김과장", "박 대리", "최 선생님").
KO_TITLES = (
    "회장", "부회장", "사장", "부사장", "대표", "대표님", "전무", "상무", "이사", "감사",
    "본부장", "실장", "부장", "차장", "과장", "팀장", "파트장", "그룹장", "센터장", "지점장",
    "소장", "원장", "국장", "처장", "단장", "대리", "주임", "사원", "계장", "선임", "책임",
    "수석", "연구원", "매니저", "프로", "위원", "교수", "박사", "선생", "변호사", "회계사",
    "세무사", "노무사", "기자", "작가", "간호사", "의사", "씨", "님", "군", "양", "선배",
    "후배", "형", "누나", "언니", "오빠",
)
# After a given name alone: forms of address only ("민수 씨", "민수님", "지원아").
KO_GIVEN_SUFFIXES = ("씨", "님", "선배", "후배", "형", "누나", "언니", "오빠")
# Single-syllable family names that are also everyday words.
KO_AMBIGUOUS_FAMILIES = frozenset(
    "이전정조주한제그도반방성소양연오우원육장차천표대구남공동안고마"
)
# Japanese titles and honorifics after a family name or a full name.
JA_SUFFIXES = (
    "さん", "様", "さま", "氏", "殿", "君", "くん", "ちゃん", "先生", "先輩", "社長", "副社長",
    "会長", "専務", "常務", "取締役", "部長", "次長", "課長", "係長", "主任", "室長", "所長",
    "支店長", "店長", "本部長", "事業部長", "マネージャー", "リーダー", "教授", "博士",
    "弁護士", "さん達", "さんたち",
)
JA_GIVEN_SUFFIXES = ("さん", "様", "さま", "君", "くん", "ちゃん", "先輩")
# English titles before a family name ("Mr. Smith", "Dr Smith").
EN_TITLES = (
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Sir", "Dame", "Madam",
    "Mister", "Lord", "Lady", "Rev", "Judge", "Captain", "Capt", "Coach", "Officer",
)
# Given names that are everyday English words: never matched alone.
EN_WORD_NAMES = frozenset(
    """
    jordan paris washington austin dallas florence georgia virginia carolina chelsea
    brooklyn sydney madison lincoln ford mercedes tesla kennedy houston phoenix denver
    london india china kenya israel
    will may june april august mark bill frank grant rose lily ivy holly hope joy faith
    grace dawn eve summer autumn winter sky river rain storm chase hunter carter mason
    taylor page paige baker cook miller rich sterling pearl ruby amber crystal jewel angel
    art bob bud buck chip chuck clay cliff colt dale dean dell drew duke earl gene gay glen
    guy hal harry jack jay jean jim joe lance lane les lee lou mac max mercy miles nick norm
    pat penny peg peter prince ray reed rob rod rock rocky ron roy rusty sandy skip sue ted
    tim tom tony trinity van victor violet wade ward wes young king long sunny star stone
    blue brook brooks forest heather hazel iris jade olive sage willow wren iris justice
    honor harmony destiny major sonny
    """.split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True)
class Member:
    """One person of the directory: the names as the directory gives them."""

    key: str  # stable id (the user's primary key), never shown
    given: str = ""
    family: str = ""


@dataclass(frozen=True)
class NameMatch:
    start: int
    end: int
    # The member this form points to, or "" when several members share it
    # ("김 과장" with two 김s): then the written form is its own identity.
    member_key: str


def _is_cjk(name: str) -> bool:
    return bool(_CJK_NAME_CHAR.search(name))


def _clean(name: str) -> str:
    return " ".join((name or "").split())


def _alternation(words: Iterable[str], *, fold: bool = True) -> str:
    """A regular expression matching any of ``words``, longest first, written
    as a trie ("김(?:민수|지원)"): Python's engine tries an alternation's
    branches one by one at every position, so a thousand members' forms as a
    flat list cost tens of milliseconds a message, the trie well under one.
    Spaces inside a word match any run of whitespace; Latin letters are
    lower-cased (the patterns are case-insensitive)."""
    trie: dict = {}
    for word in {w.casefold() if fold and w.isascii() else w for w in words if w}:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_regex(trie)


def _trie_regex(node: dict) -> str:
    ends_here = "" in node
    branches = []
    # Longer continuations first, so the longest form wins at a position.
    for char in sorted((c for c in node if c), reverse=True):
        head = r"\s+" if char == " " else re.escape(char)
        branches.append(head + _trie_regex(node[char]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends_here:
        return f"(?:{body})?"
    return body


def _key(text: str) -> str:
    return "".join(text.split()).casefold().rstrip(".,")


class NameMatcher:
    """Finds the forms of a fixed list of members. Build once per directory
    version (``matcher_for`` caches it) and reuse for every message."""

    def __init__(self, members: Sequence[Member]) -> None:
        full: dict[str, set[str]] = {}
        self._full_names: dict[str, str] = {}
        families: dict[str, set[str]] = {}
        givens: dict[str, set[str]] = {}
        for member in members:
            given, family = _clean(member.given), _clean(member.family)
            if given and family:
                # As the member's own script writes it: 김민수, 田中太郎, John Smith.
                self._full_names[member.key] = (
                    family + given if _is_cjk(given) and _is_cjk(family) else f"{given} {family}")
                if _is_cjk(given + family):
                    forms = {family + given, f"{family} {given}"}
                    if not _is_cjk(given) or not _is_cjk(family):
                        forms.add(f"{given} {family}")
                else:
                    forms = {f"{given} {family}", f"{family}, {given}"}
                for form in forms:
                    full.setdefault(_key(form), set()).add(member.key)
            if family:
                families.setdefault(family, set()).add(member.key)
            if given:
                givens.setdefault(given, set()).add(member.key)
        self._full = full
        self._families = {_key(f): keys for f, keys in families.items()}
        self._givens = {_key(g): keys for g, keys in givens.items()}

        patterns: list[str] = []
        latin_full = _forms(members, cjk=False)
        cjk_full = _forms(members, cjk=True)
        if latin_full:
            patterns.append(rf"(?P<full_latin>{_LATIN_START}(?:{_alternation(latin_full)}){_LATIN_END})")
        # Hangul names start where a word starts (not inside a longer run of
        # syllables); kanji and kana names may follow any character, since
        # Japanese writes "営業部田中太郎" without a gap.
        ko_full = [f for f in cjk_full if _HANGUL_RE.search(f)]
        ja_full = [f for f in cjk_full if not _HANGUL_RE.search(f)]
        if ko_full:
            patterns.append(rf"(?<![{_HANGUL}])(?P<full_ko>{_alternation(ko_full)})")
        if ja_full:
            patterns.append(rf"(?P<full_ja>{_alternation(ja_full)})")
        ko_families = sorted(f for f in families if _HANGUL_RE.search(f))
        ja_families = sorted(f for f in families if _is_cjk(f) and not _HANGUL_RE.search(f))
        latin_families = sorted(f for f in families if not _is_cjk(f))
        ko_givens = sorted(g for g in givens if _HANGUL_RE.search(g))
        ja_givens = sorted(g for g in givens if _is_cjk(g) and not _HANGUL_RE.search(g))
        latin_givens = sorted(
            g for g in givens
            if not _is_cjk(g) and len(givens[g]) == 1 and len(g) >= 3
            and g.casefold() not in EN_WORD_NAMES and g[:1].isupper()
        )
        # A title ends where a word would: "고양시" is no 고 + 양, "김과장님께" is.
        ko_titles = (rf"(?:{_alternation(KO_TITLES)})"
                     r"(?=[^\uac00-\ud7a3]|$|님|께|은|는|이|가|을|를|에|과|와|의|도|한테|으로|로|만)")
        plain = [f for f in ko_families if f not in KO_AMBIGUOUS_FAMILIES]
        ambiguous = [f for f in ko_families if f in KO_AMBIGUOUS_FAMILIES]
        if plain:
            patterns.append(
                rf"(?<![{_HANGUL}])(?P<ko_family>{_alternation(plain)})(?=\s?(?:{ko_titles}))")
        if ambiguous:
            patterns.append(
                rf"(?<![{_HANGUL}])(?P<ko_family_glued>{_alternation(ambiguous)})(?=(?:{ko_titles}))")
        if ko_givens:
            patterns.append(
                rf"(?<![{_HANGUL}])(?P<ko_given>{_alternation(ko_givens)})"
                rf"(?=\s?(?:{_alternation(KO_GIVEN_SUFFIXES)})|아(?![{_HANGUL}])|야(?![{_HANGUL}]))")
        if ja_families:
            patterns.append(
                rf"(?P<ja_family>{_alternation(ja_families)})(?=(?:{_alternation(JA_SUFFIXES)}))")
        if ja_givens:
            patterns.append(
                rf"(?P<ja_given>{_alternation(ja_givens)})(?=(?:{_alternation(JA_GIVEN_SUFFIXES)}))")
        if latin_families:
            patterns.append(
                rf"(?<![A-Za-z])(?:{_alternation(EN_TITLES)})\.?\s+"
                rf"(?P<en_family>{_alternation(latin_families)}){_LATIN_END}")
        if latin_givens:
            # Case-sensitive: "Priya" is a name, "priya" in a URL slug may not be.
            # Not before another capitalised word: "John Deere", "Priya Sharma"
            # are someone (or something) else.
            given_forms = _alternation(latin_givens, fold=False)
            patterns.append(
                rf"{_LATIN_START}(?P<en_given>(?-i:{given_forms})){_LATIN_END}"
                r"(?!\s+(?-i:[A-Z][a-z]))")
        self._regex = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def find(self, text: str) -> list[NameMatch]:
        if self._regex is None:
            return []
        found = []
        for match in self._regex.finditer(text):
            kind = match.lastgroup or ""
            start, end = match.span(kind)
            if kind == "en_given" and self._after_another_name(text, start):
                continue
            surface = _key(text[start:end])
            table = self._full if kind.startswith("full") else (
                self._givens if "given" in kind else self._families)
            keys = table.get(surface, set())
            found.append(NameMatch(start, end, next(iter(keys)) if len(keys) == 1 else ""))
        return found

    _BEFORE = re.compile(r"([A-Z][a-z]+)\s+$")
    # Capitalised words that come before a first name without being a name.
    _CALLS = frozenset(
        {"hi", "hello", "hey", "dear", "thanks", "thank", "ask", "tell", "email", "call",
         "ping", "cc", "to", "from", "with", "and", "for", "by", "but", "so", "if", "when",
         "sorry", "please"}
    )

    def _after_another_name(self, text: str, start: int) -> bool:
        """A given name alone right after another capitalised word ("Jesus
        Bradley"): the family name of someone else, not our Bradley."""
        before = self._BEFORE.search(text, max(0, start - 30), start)
        return bool(before) and before.group(1).casefold() not in self._CALLS

    def full_name(self, member_key: str) -> str:
        """The member's full name ("" when the directory has only one part)."""
        return self._full_names.get(member_key, "")

    def member_for(self, written: str) -> str:
        """The member a written form points to ("" if none or several)."""
        surface = _key(written)
        for table in (self._full, self._families, self._givens):
            keys = table.get(surface)
            if keys:
                return next(iter(keys)) if len(keys) == 1 else ""
        # "Mr. Smith": the family name after a title.
        words = written.replace(".", " ").split()
        if len(words) >= 2:
            keys = self._families.get(_key(words[-1]))
            if keys and len(keys) == 1:
                return next(iter(keys))
        return ""


def _forms(members: Sequence[Member], *, cjk: bool) -> list[str]:
    forms = []
    for member in members:
        given, family = _clean(member.given), _clean(member.family)
        if not (given and family):
            continue
        if _is_cjk(given + family) != cjk:
            continue
        if cjk:
            forms += [family + given, f"{family} {given}"]
            if not _is_cjk(given) or not _is_cjk(family):
                forms.append(f"{given} {family}")
        else:
            forms += [f"{given} {family}", f"{family}, {given}"]
    return forms


@lru_cache(maxsize=64)
def matcher_for(members: tuple[Member, ...]) -> NameMatcher:
    """One matcher per directory, built once: compiling the forms of a
    thousand members takes a few milliseconds, matching a message far less."""
    return NameMatcher(members)
