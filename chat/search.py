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

from django.contrib.postgres.search import SearchQuery, SearchVector

from chat.cjk import CJK_CLASS, HANGUL, HIRAGANA, KANJI, KATAKANA, cjk_share, has_cjk

__all__ = ["CJKSearchQuery", "CJKSearchVector", "cjk_share", "has_cjk"]

# Korean particles and endings taken off the end of a word of three or more
# syllables before it is cut into pieces ("회사에서" -> 회사, "결혼하면" -> 결혼,
# "연차휴가는" -> 연차휴가), in the index and in questions alike: the pieces of
# the rest are a subset of the whole word's, so a word still matches wherever
# it appears, but "에서" or "하면" no longer count as words of the question.
KOREAN_ENDINGS = (
    "에서는", "으로는", "에서", "에게", "한테", "까지", "부터", "처럼", "보다", "에는", "에도",
    "으로", "이나", "이랑", "하면", "하는", "하고", "해서", "하여", "합니다", "입니다",
    "습니다", "인가요", "한가요", "나요", "가요", "까요", "어요", "아요", "해요", "예요",
    "이에요", "는데", "려고", "으면", "은", "는", "이", "가", "을", "를", "의", "에", "도",
    "만", "와", "과", "로", "한", "할",
)

FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION public.cjk_bigrams(document text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
  SELECT coalesce(string_agg(CASE
      WHEN length(run) > 1 THEN (
        SELECT string_agg(substr(run, i, 2), ' ' ORDER BY i)
        FROM generate_series(1, length(run) - 1) AS i)
        || CASE WHEN run ~ '^[@KANJI@]+$'
           THEN ' ' || rtrim(regexp_replace(run, '(.)', '\1 ', 'g')) ELSE '' END
      WHEN run ~ '^[@HIRAGANA@]$' THEN NULL
      ELSE run END, ' '), '')
  FROM (SELECT regexp_replace(m[1], '^([@HANGUL@]{2,})(@KOREAN_ENDINGS@)$', '\1') AS run
        FROM regexp_matches(
          document, '([@KANJI@]+|[@KATAKANA@]+|[@HIRAGANA@]+|[@HANGUL@]+)', 'g') AS m) AS runs
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
"""
for _name, _class in {"CJK": CJK_CLASS, "HIRAGANA": HIRAGANA, "KATAKANA": KATAKANA,
                      "KANJI": KANJI, "HANGUL": HANGUL,
                      "KOREAN_ENDINGS": "|".join(KOREAN_ENDINGS)}.items():
    FUNCTIONS_SQL = FUNCTIONS_SQL.replace(f"@{_name}@", _class)

# Reverse of the migration (after the columns that use them are gone).
DROP_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS public.cjk_websearch_tsquery(regconfig, text);
DROP FUNCTION IF EXISTS public.cjk_tsvector(regconfig, text);
DROP FUNCTION IF EXISTS public.cjk_bigrams(text);
"""


class CJKSearchVector(SearchVector):
    """SearchVector built with public.cjk_tsvector (see the module docstring)."""

    function = "public.cjk_tsvector"


class CJKSearchQuery(SearchQuery):
    """A search-box query (websearch syntax outside Korean and Japanese text),
    transformed like the column it searches."""

    def __init__(self, value, *, config):
        super().__init__(value, config=config, search_type="websearch")
        self.function = "public.cjk_websearch_tsquery"
