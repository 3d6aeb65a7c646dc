"""Secrets people paste: access keys, API tokens, private keys, passwords in
connection strings and URLs.

The formats are detect-secrets' own (Yelp's scanner, the rules behind its
pre-commit hook): every regex-based plugin that names a credential format
(AWS, GitHub, GitLab, Slack, OpenAI, Stripe, SendGrid, Twilio, JWT, private
key headers, passwords in URLs...), plus its keyword rules in "config" mode
(``password=...``, ``Password: ...``, ``api_key = "..."``). What this module
adds is only what a chat message needs and a source file does not:

- offsets (detect-secrets yields the secret's text; we find where it is);
- a private key block is redacted whole, from BEGIN to END;
- a keyword value must look like a secret, not like prose or code
  ("password: click the link", "password = get_password()"), the precision
  rule measured with bench/redaction.py on ordinary prose and code;
- Korean and Japanese cue words (비밀번호, パスワード) before a value;
- passwords in URLs with the characters BasicAuthDetector refuses ("!", "$").

Detectors that guess by entropy alone (high-entropy strings) are left out:
on prose and code they flag hashes, ids and base64 images.
"""

from __future__ import annotations

import re
from functools import lru_cache

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import CONFIG_DENYLIST_REGEX_TO_GROUP
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

__all__ = ["find_secrets"]

_FORMAT_DETECTORS: tuple[type[RegexBasedDetector], ...] = (
    ArtifactoryDetector,
    AWSKeyDetector,
    AzureStorageKeyDetector,
    BasicAuthDetector,
    CloudantDetector,
    DiscordBotTokenDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    IbmCloudIamDetector,
    IbmCosHmacDetector,
    JwtTokenDetector,
    MailchimpDetector,
    NpmDetector,
    OpenAIDetector,
    PypiTokenDetector,
    SendGridDetector,
    SlackDetector,
    SoftlayerDetector,
    SquareOAuthDetector,
    StripeDetector,
    TelegramBotTokenDetector,
    TwilioKeyDetector,
)

# "-----BEGIN RSA PRIVATE KEY----- ... -----END RSA PRIVATE KEY-----"; an
# unterminated block (pasted in part) runs to the end of the text.
_KEY_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END \1-----|\Z)", re.S)
# detect-secrets' BasicAuthDetector refuses passwords with "!", "$", "&"
# and the like (URL-reserved, yet people type them unescaped): any
# user:password@ after a scheme counts.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]+:(?P<value>[^\s@/]+)@[\w.\-]")
_PUTTY_BLOCK = re.compile(r"PuTTY-User-Key-File-\d:.*?(?:Private-MAC: *\S+|\Z)", re.S)

# Korean and Japanese cues for a password or key typed after it, with the
# particle or punctuation people put between ("비밀번호는 qwer1234!!",
# "パスワード：hogehoge99").
_CJK_CUE = re.compile(
    r"(?:비밀번호|비번|패스워드|암호|API ?키|액세스 ?키|시크릿 ?키|토큰|"
    r"パスワード|暗証番号|アクセスキー|シークレットキー|APIキー|トークン|密码|口令)"
    r"\s*(?:은|는|이|가|을|를|:|：|=|は|が|を|：)?\s*[:：=]?\s*"
    r"(?P<value>[!-~]{6,})"
)

_NOT_A_VALUE = frozenset({
    "none", "null", "nil", "true", "false", "undefined", "empty", "required", "optional",
    "changeme", "password", "secret", "xxx", "xxxx", "xxxxxx", "********", "***", "****",
})
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_\-+/=.]*")
_TRAILING = "\"'`;,.)]}>"


def _looks_like_secret(value: str) -> bool:
    """A keyword's value that is a secret rather than prose or code.

    One token (no spaces), not a call or a reference to somewhere else
    (``get_password()``, ``${DB_PASSWORD}``, ``os.environ[...]``), not a
    placeholder word, and with a digit, a symbol or mixed case in it, as
    passwords and keys have and ordinary words do not.
    """
    if not value or any(ch.isspace() for ch in value) or len(value) < 4:
        return False
    if value.casefold() in _NOT_A_VALUE or set(value) <= {"*", "x", "X", "."}:
        return False
    if "(" in value or value.startswith(("$", "{", "%", "<", "os.", "env", "process.")):
        return False
    has_digit = any(ch.isdigit() for ch in value)
    has_symbol = any(not ch.isalnum() for ch in value)
    mixed = any(ch.islower() for ch in value) and any(ch.isupper() for ch in value[1:])
    return has_digit or has_symbol or mixed


@lru_cache(maxsize=1)
def _format_regexes() -> tuple[re.Pattern[str], ...]:
    regexes: list[re.Pattern[str]] = []
    for detector in _FORMAT_DETECTORS:
        regexes.extend(detector().denylist)
    return tuple(regexes)


# detect-secrets' keyword rules, case-insensitive ("DB_PASSWORD=", "Password:"
# as people write them; the plugin itself matches them as written in code).
_KEYWORD_RULES = tuple(
    (re.compile(regex.pattern, regex.flags | re.IGNORECASE), group)
    for regex, group in CONFIG_DENYLIST_REGEX_TO_GROUP.items()
)


def _value_span(match: re.Match[str], group: int) -> tuple[int, int]:
    start, end = match.span(group)
    value = match.string[start:end]
    # The rule's value runs to the end of the line: a value ends at a space
    # or at the ";" that separates a connection string's fields.
    value = re.split(r"[\s;]", value, maxsplit=1)[0]
    stripped = value.rstrip(_TRAILING)
    lead = len(stripped) - len(stripped.lstrip("\"'`"))
    return start + lead, start + len(stripped)


def find_secrets(text: str) -> list[tuple[int, int]]:
    """(start, end) of every secret found in ``text``; spans may overlap (the
    engine keeps the best of overlapping candidates)."""
    spans: list[tuple[int, int]] = []
    for regex in _format_regexes():
        for match in regex.finditer(text):
            # Where a detector captures the value (a password in a URL, a key
            # after "aws_secret"), that group is the secret; a group at the
            # start is a prefix ("glpat" of a GitLab token): the whole match counts.
            group = match.lastindex or 0
            if group and (match.start(group) <= match.start() or len(match.group(group)) < 4):
                group = 0
            start, end = match.span(group)
            if group == 0:
                # Some patterns stop early (JWT's lazy signature part): a token
                # runs to its last token character.
                tail = _TOKEN_TAIL.match(text, end)
                end = tail.end() if tail else end
                while end > start and text[end - 1] in "._-":
                    end -= 1
            # Artifactory's pattern takes the blank around the token with it.
            while start < end and text[start] in " \t\n=:\"":
                start += 1
            while end > start and text[end - 1] in " \t\n\"":
                end -= 1
            if end > start:
                spans.append((start, end))
    spans.extend(m.span("value") for m in _URL_PASSWORD.finditer(text))
    for block in (_KEY_BLOCK, _PUTTY_BLOCK):
        spans.extend(m.span() for m in block.finditer(text))
    # detect-secrets reads keyword rules a line at a time.
    for line_match in re.finditer(r"[^\n]+", text):
        line = line_match.group()
        offset = line_match.start()
        for regex, group in _KEYWORD_RULES:
            for match in regex.finditer(line):
                start, end = _value_span(match, group)
                if _looks_like_secret(line[start:end]):
                    spans.append((offset + start, offset + end))
    for match in _CJK_CUE.finditer(text):
        start, end = _value_span(match, match.re.groupindex["value"])
        if _looks_like_secret(text[start:end]):
            spans.append((start, end))
    return spans
