"""Full-text search that also works in Korean and Japanese.

PostgreSQL's parser splits words at spaces and punctuation, so "연차휴가는"
("annual leave" + a particle) or "有給休暇は" stays one long token and a search
for "연차" or "有給" never matches it. Korean attaches particles and endings to
words, and Japanese has no spaces at all.

The search columns are therefore built with `public.cjk_tsvector(config, text)`
(created by migration chat 0006, an IMMUTABLE SQL function, so it can define
a generated column): the text outside Hangul, kana and kanji goes through the
usual configuration unchanged ("english" stems it, "simple" does not), and
each Hangul or kana/kanji run becomes its overlapping two-character pieces
("연차휴가는" -> 연차 차휴 휴가 가는; "有給休暇は" -> 有給 給休 休暇 暇は),
indexed with the "simple" configuration. A question or search box query goes
through the same function, so a Korean or Japanese word of two or more
characters matches wherever it appears inside a longer run, the GIN index
answers it, and ts_rank counts it like any word. A single-character run is kept
as one piece (e.g. 月); a single character inside a longer run is not
searchable on its own.

Only core PostgreSQL is used (regexp_matches, generate_series, to_tsvector): no
extension, so it works the same on the embedded PostgreSQL 16 and on Debian's
PostgreSQL 15. The functions live in the `public` schema (every client's
search_path ends with it, and cloning the template schema keeps the columns
pointing at them); creating them needs CREATE on `public`, which the database
owner has.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector

# Hangul syllables and jamo; kana (incl. the long-vowel mark, half-width
# katakana), CJK ideographs and the iteration marks 々 〆. The SQL below and
# this pattern must list the same characters.
CJK_CLASS = (r"\u3040-\u30FF\u31F0-\u31FF\u3005\u3006\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF"
             r"\uFF66-\uFF9F")
HANGUL_CLASS = r"\u1100-\u11FF\u3130-\u318F\uAC00-\uD7A3"
CJK_PATTERN = re.compile(f"[{CJK_CLASS}{HANGUL_CLASS}]")

FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION public.cjk_bigrams(document text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT coalesce(string_agg(CASE WHEN length(run) = 1 THEN run ELSE (
      SELECT string_agg(substr(run, i, 2), ' ' ORDER BY i)
      FROM generate_series(1, length(run) - 1) AS i) END, ' '), '')
  FROM (SELECT m[1] AS run FROM regexp_matches(
    document, '([@KANA_KANJI@]+|[@HANGUL@]+)', 'g') AS m) AS runs
$fn$;

CREATE OR REPLACE FUNCTION public.cjk_tsvector(config regconfig, document text)
RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT CASE WHEN document ~ '[@CJK@]'
    THEN to_tsvector(config, regexp_replace(document, '[@CJK@]+', ' ', 'g'))
         || to_tsvector('simple'::regconfig, public.cjk_bigrams(document))
    ELSE to_tsvector(config, document) END
$fn$;

CREATE OR REPLACE FUNCTION public.cjk_websearch_tsquery(config regconfig, query text)
RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT CASE WHEN query ~ '[@CJK@]'
    THEN websearch_to_tsquery(config,
                              regexp_replace(query, '[@CJK@]+', ' ', 'g'))
         && plainto_tsquery('simple'::regconfig, public.cjk_bigrams(query))
    ELSE websearch_to_tsquery(config, query) END
$fn$;
""".replace("@CJK@", CJK_CLASS + HANGUL_CLASS).replace("@KANA_KANJI@", CJK_CLASS).replace(
    "@HANGUL@", HANGUL_CLASS)

# Reverse of the migration (after the columns that use them are gone).
DROP_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS public.cjk_websearch_tsquery(regconfig, text);
DROP FUNCTION IF EXISTS public.cjk_tsvector(regconfig, text);
DROP FUNCTION IF EXISTS public.cjk_bigrams(text);
"""


def has_cjk(text: str) -> bool:
    return bool(CJK_PATTERN.search(text or ""))


def cjk_share(text: str) -> float:
    """The share of the text's letters that are Hangul, kana or kanji."""
    letters = [char for char in text or "" if char.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for char in letters if CJK_PATTERN.match(char)) / len(letters)


class CJKSearchVector(SearchVector):
    """SearchVector built with public.cjk_tsvector (see the module docstring)."""

    function = "public.cjk_tsvector"


class CJKSearchQuery(SearchQuery):
    """A search-box query (websearch syntax outside Korean and Japanese text),
    transformed like the column it searches."""

    def __init__(self, value, *, config):
        super().__init__(value, config=config, search_type="websearch")
        self.function = "public.cjk_websearch_tsquery"
