"""Full-text search that also works in Korean and Japanese.

PostgreSQL's parser splits words at spaces and punctuation, so "연차휴가는"
("annual leave" + a particle) or "有給休暇は" stays one long token and a search
for "연차" or "有給" never matches it. Korean attaches particles and endings to
words, and Japanese has no spaces at all.

The search columns are therefore built with `public.cjk_tsvector(config, text)`
(created by migration chat 0006; IMMUTABLE, so it can define a generated
column): the text outside Hangul, kana and kanji goes through the usual
configuration unchanged ("english" stems it, "simple" does not), and each run
of one script (Hangul, kanji, katakana, hiragana) becomes pieces, indexed
with the "simple" configuration (`public.cjk_bigrams`):

- its overlapping two-character pieces ("有給休暇" -> 有給 給休 休暇);
- a Korean word of three syllables or more first loses one listed particle or
  ending ("연차휴가는" -> 연차휴가 -> 연차 차휴 휴가; "결혼하면" -> 결혼), so
  "하면" or "에서" do not count as words;
- a kanji run also gives each of its characters (an abbreviation such as
  有休 then still meets 有給休暇); a run of one character is kept as it is,
  except a lone hiragana (a particle: は, を).

A question or search-box query goes through the same function, so a word of
two or more characters matches wherever it appears inside a longer run, the
GIN index answers it, and ts_rank counts it like any word. Retrieval weighs
the pieces (knowledge.retrieval: particles, seams between words and a
lone kanji are not evidence).

Only core PostgreSQL is used (PL/pgSQL, which every database has, regexp_matches,
to_tsvector): no extension such as pg_trgm to install or to be allowed to
create, so it works the same on the embedded PostgreSQL 16 and on Debian's
PostgreSQL 15 (both checked). The functions live in the `public` schema (every client's
search_path ends with it, and cloning the template schema keeps the columns
pointing at them); creating them needs CREATE on `public`, which the database
owner has.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchVector

from knowledge.cjk import CJK_CLASS, HANGUL, HIRAGANA, KANJI, KATAKANA, cjk_share, has_cjk

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
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  run text;
  n int;
  pieces text[] := '{}';
BEGIN
  FOR run IN SELECT m[1] FROM regexp_matches(
      document, '([@KANJI@]+|[@KATAKANA@]+|[@HIRAGANA@]+|[@HANGUL@]+)', 'g') AS m LOOP
    n := length(run);
    IF n > 2 AND run ~ '^[@HANGUL@]' THEN
      -- the shortest listed ending that leaves two syllables or more
      FOR k IN 1 .. 3 LOOP
        IF n - k >= 2 AND right(run, k) = ANY('{@KOREAN_ENDINGS@}'::text[]) THEN
          run := left(run, n - k);
          n := n - k;
          EXIT;
        END IF;
      END LOOP;
    END IF;
    IF n = 1 THEN
      IF run !~ '^[@HIRAGANA@]$' THEN
        pieces := pieces || run;
      END IF;
    ELSE
      FOR i IN 1 .. n - 1 LOOP
        pieces := pieces || substr(run, i, 2);
      END LOOP;
      IF run ~ '^[@KANJI@]+$' THEN
        FOR i IN 1 .. n LOOP
          pieces := pieces || substr(run, i, 1);
        END LOOP;
      END IF;
    END IF;
  END LOOP;
  RETURN array_to_string(pieces, ' ');
END
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
                      "KOREAN_ENDINGS": ",".join(KOREAN_ENDINGS)}.items():
    FUNCTIONS_SQL = FUNCTIONS_SQL.replace(f"@{_name}@", _class)

class CJKSearchVector(SearchVector):
    """SearchVector built with public.cjk_tsvector (see the module docstring)."""

    function = "public.cjk_tsvector"


class CJKSearchQuery(SearchQuery):
    """A search-box query (websearch syntax outside Korean and Japanese text),
    transformed like the column it searches."""

    def __init__(self, value, *, config):
        super().__init__(value, config=config, search_type="websearch")
        self.function = "public.cjk_websearch_tsquery"
