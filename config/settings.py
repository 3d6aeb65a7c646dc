"""TuneAIBot settings: one module, every value from the environment.

See .env.example for every setting with a comment. Defaults are safe for
production (DEBUG off, secure cookies over HTTPS). Importing this module has no
side effects: it starts nothing. The development entry points (scripts/start,
scripts/test, scripts/manage) start embedded PostgreSQL and Redis when no URLs
are given (devtools/embedded.py); anything else without them stops here.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(env.path("TUNEAIBOT_ENV_FILE", default=BASE_DIR / ".env"),
                     overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and not env.bool("TUNEAIBOT_DEV", default=False):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment or .env "
            "(the quick start does this for you)."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

# Each client is served at <slug>.<BASE_DOMAIN>; the platform site at BASE_DOMAIN.
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])
SITE_SCHEME = env.str("SITE_SCHEME", default="http")
SITE_PORT = env.str("SITE_PORT", default="8000")

# --- Services: both required, never guessed ------------------------------------
# A production process with a misspelled URL must not quietly use a local
# database: the development entry points start embedded services and pass
# their URLs; everything else stops here.
DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
_missing = [name for name, value in (("DATABASE_URL", DATABASE_URL), ("REDIS_URL", REDIS_URL))
            if not value]
if _missing:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"{' and '.join(_missing)} {'is' if len(_missing) == 1 else 'are'} not set. "
        "Set them in the environment or .env to your PostgreSQL / Redis servers; for local "
        "development use scripts/start, scripts/test or scripts/manage, which start "
        "embedded ones."
    )

DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
# A connection pool per process (psycopg_pool): opening a PostgreSQL connection
# per request or per answer costs more than the work itself. 0 turns it off.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=20)
if DB_POOL_MAX_SIZE and not DATABASES["default"]["CONN_MAX_AGE"]:
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1, "max_size": DB_POOL_MAX_SIZE,
        # How long a request waits for a connection: with PostgreSQL down, a page
        # answers 503 "temporarily unavailable" after this, not a 30 s hang.
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
    }
# Requests of one web process that run their Django part at once (the rest
# wait in the event loop, holding no connection; an answer stream counts only
# until its response starts): the pool's size, so none waits on the pool.
WEB_CONCURRENT_REQUESTS = env.int("WEB_CONCURRENT_REQUESTS", default=DB_POOL_MAX_SIZE or 20)
# A request that waited this long goes ahead anyway.
WEB_QUEUE_SECONDS = env.float("WEB_QUEUE_SECONDS", default=30.0)
# The search_path is set once per connection checkout, not before every query.
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

# --- Apps -----------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "tenants.members",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "compliance",
    "csp",
    # Two-step sign-in of platform staff (tenants.two_step).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tenants.two_step",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tenants.members",
    "compliance",
    "chat",
    "knowledge",
    "data_rights",
    "tenants.sso",
    # Each client's people's second factors, in its own schema.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tenants.two_step",
    "api",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Client"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New clients are cloned from a migrated template schema instead of running
# every migration: see tenants.services.ensure_template_schema.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Run inside a new client's schema, in its provisioning transaction, each
# called with country=...: the apps above tenants set up their defaults here
# (tenants imports none of them).
CLIENT_SETUP_STEPS = ["compliance.services.apply_country_defaults"]
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DEFAULT_NOT_FOUND_TENANT_VIEW = "tenants.views.unknown_host"

AUTH_USER_MODEL = "members.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:home"
LOGOUT_REDIRECT_URL = "login"

MIDDLEWARE = [
    "tenants.middleware.HealthCheckMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # doors: text the database cannot store (NUL, broken encoding) is a 400.
    "tenants.bad_input.RejectUnstorableTextMiddleware",
    "tenants.middleware.SuspendedClientMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # doors: on a client's site only tenants.access.ANONYMOUS_ROUTES are open
    # without signing in.
    "tenants.access.ClientSiteLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.workspace",
                "compliance.context_processors.notice",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

# --- Redis: cache, Celery broker, token streams ----------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # One client's keys never collide with another's.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
# Django's database sessions; a session that ends revokes its answer-stream
# tokens (tenants/members/sessions.py, core/stream_revocation.py).
SESSION_ENGINE = "tenants.members.sessions"

# The broker is Redis through config/broker.py's transport (kombu's, fixed so a
# worker rides out a Redis outage). Kombu spells a Unix-socket URL
# "<transport>+socket://path"; a redis:// URL names the transport in a setting.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or (
    "tuneaibot-redis+socket://" + REDIS_URL.removeprefix("unix://")
    if REDIS_URL.startswith("unix://") else REDIS_URL
)
CELERY_BROKER_TRANSPORT = (
    "config.broker:ResilientRedisTransport"
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else None
)

# --- Security ---------------------------------------------------------------
HTTPS = env.bool("HTTPS", default=SITE_SCHEME == "https")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Content-Security-Policy and Permissions-Policy (django-csp, django-permissions-policy)
# No inline script, no inline style, no eval: pages load only their own static
# files; data reaches scripts through data-* attributes or json_script blocks.
# The browser tests fail on any violation (tests/support/csp.py).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the empty favicon (<link rel="icon" href="data:,">).
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Both headers are set just outside the tenant lookup, so every page gets them:
# also those django-tenants (unknown host) or the suspended-client check answer
# by themselves, before any later middleware runs.
MIDDLEWARE.insert(MIDDLEWARE.index("django_tenants.middleware.main.TenantMainMiddleware"),
                  "csp.middleware.CSPMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("django_tenants.middleware.main.TenantMainMiddleware"),
                  "django_permissions_policy.PermissionsPolicyMiddleware")
# Powerful browser features the product never uses are off for every page and
# any frame in it. clipboard-write stays on (the Copy button of an answer).
# Only features Chromium recognises: it logs an error for any other.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture",
        "encrypted-media", "geolocation", "gyroscope", "hid", "idle-detection",
        "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
        "screen-wake-lock", "serial", "usb",
        "xr-spatial-tracking", "browsing-topics",
    )
}
# Passkeys (two-step sign-in): the page itself may ask for one, no frame in it.
PERMISSIONS_POLICY["publickey-credentials-get"] = ["self"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in throttling (django-axes) and password reset limits (django-ratelimit) ---
# Axes records failed sign-ins in the schema of the site they happen on (its
# tables are in the public schema and in every client's), so a lockout on one
# client never touches the same e-mail on another client or on the platform.
from datetime import timedelta  # noqa: E402

SHARED_APPS.append("axes")  # sign-in attempts of platform staff
TENANT_APPS.append("axes")  # each client's sign-in attempts, in its own schema
INSTALLED_APPS.append("axes")
# Last, as django-axes asks: turns a sign-in lockout into its 429 page.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out sign-ins
    # Passwords as Django's ModelBackend, refused for members of an "SSO only"
    # client (its break-glass admin excepted).
    "tenants.sso.backends.SsoAwareModelBackend",
]
AXES_HANDLER = "tenants.members.throttling.AccountAndAddressHandler"
# Failures are counted per account (the e-mail, any address) and per network
# address (any account); either reaching its limit pauses sign-in.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# A pause ends LOGIN_LOCKOUT_MINUTES after the failure that started it (tries
# during the pause are refused without extending it), so the page can say when.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Not reset by a successful sign-in: an attacker could clear the count of their
# address by signing in to an account of their own between guesses.
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in forms' field for the e-mail
AXES_USERNAME_CALLABLE = "tenants.members.throttling.attempted_email"
AXES_LOCKOUT_CALLABLE = "tenants.members.throttling.lockout_response"
# The client address is REMOTE_ADDR only (uvicorn sets it from X-Forwarded-For
# for the proxies it trusts: FORWARDED_ALLOW_IPS); a header never decides it.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_DISABLE_ACCESS_LOG = True  # no record of every successful sign-in
AXES_VERBOSE = False
# --- Two-step sign-in (tenants.two_step) ----------------------------------------
# Each client chooses who must give a second factor (Client.second_factor:
# tenant admins by default); platform staff must whenever the site is HTTPS.
TWO_STEP_REQUIRED_FOR_STAFF = HTTPS or env.bool("TWO_STEP_REQUIRED_FOR_STAFF", default=False)
# "Remember this browser": how long it may skip the second step (at most 90 days).
TWO_STEP_REMEMBER_DAYS = min(90, max(1, env.int("TWO_STEP_REMEMBER_DAYS", default=30)))
# How long a password sign-in waits for its second step.
TWO_STEP_PENDING_SECONDS = env.int("TWO_STEP_PENDING_SECONDS", default=600)
# Wrong codes count as failed sign-ins in django-axes (per account and address,
# the limits above); django-otp's own per-device delay is off, so a mistyped code
# followed at once by the right one is not refused without saying why.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("TWO_STEP_ISSUER", default="TuneAIBot")

# Password reset requests, per network address and per e-mail asked for
# (counted whether or not the account exists). Format: <count>/<s|m|h|d>.
PASSWORD_RESET_RATE_PER_ADDRESS = env.str("PASSWORD_RESET_RATE_PER_ADDRESS", default="10/h")
PASSWORD_RESET_RATE_PER_EMAIL = env.str("PASSWORD_RESET_RATE_PER_EMAIL", default="3/h")

# --- Email --------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
vars().update(env.email_url_config(EMAIL_URL))
if EMAIL_URL.startswith("filemail://"):
    # django-environ drops the leading slash of an absolute path.
    EMAIL_FILE_PATH = EMAIL_URL.removeprefix("filemail://")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="TuneAIBot <no-reply@tuneaibot.local>")

# --- Files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".data" / "static")
# Each client's files live under MEDIA_ROOT/<schema>/ (see tenants.storage).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")

TIME_ZONE = "UTC"
USE_TZ = True

# --- Languages (English, Korean, Japanese) -----------------------------------------
# Each request speaks the person's saved choice, else their workspace's default
# (a tenant admin setting), else the browser's Accept-Language
# (tenants.middleware.UserLanguageMiddleware). Catalogs: locale/<code>/LC_MESSAGES,
# compiled .mo files committed next to the .po files (see README "Languages").

USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
                  "django.middleware.locale.LocaleMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "tenants.middleware.UserLanguageMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery -------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers ride out a Redis outage of any length: reconnect forever (the default
# gives up after 100 attempts and exits), and let tasks already running finish
# (they ack through config/broker.py's transport once Redis is back; a task
# given out again meanwhile is harmless: tasks are idempotent, answers hold a lease).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died is handed out again after this many seconds
    # (a live task handed out twice is harmless: answers hold a lease)...
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    # ...checked this often (kombu's default sweep is every 100 s).
    "unacked_restore_interval": env.int("CELERY_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
}
CELERY_TASK_ALWAYS_EAGER = False
# Periodic jobs, sent once per client schema by tenant-schemas-celery's
# tenant-aware scheduler (`celery -A config beat`).
CELERY_BEAT_SCHEDULER = "config.beat.ResilientTenantScheduler"
CELERY_BEAT_SCHEDULE = {
    "purge-expired-data": {
        "task": "data_rights.purge_expired_data",
        # Retention is in days; running hourly keeps each purge small. Idempotent.
        "schedule": env.float("COMPLIANCE_PURGE_EVERY_MINUTES", default=60.0) * 60,
    },
    # Answers whose worker died or whose task was lost end failed (Retry button).
    "fail-abandoned-answers": {"task": "chat.tasks.fail_abandoned_answers",
                               "schedule": env.float("BEAT_SWEEP_SECONDS", default=60.0)},
    # Knowledge files whose ingest task was lost end failed (Re-index button);
    # a ready file whose quality-vector task was lost gets it sent again.
    "fail-stalled-files": {"task": "knowledge.fail_stalled_files", "schedule": 300.0},
}

# --- The model API and chat ----------------------------------------------------
# Platform-wide defaults; a client may bring its own key and endpoint. With no
# key anywhere, chat runs in a clearly labelled offline mode.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
# A call that sends nothing for this long is timed out; a failed call is tried
# again up to MODEL_MAX_RETRIES times: a hanging model fails after about
# (1 + 2) x 30 s + backoff = ~93 s (see the answer-path block below).
MODEL_TIMEOUT_SECONDS = env.float("MODEL_TIMEOUT_SECONDS", default=30.0)
MODEL_MAX_RETRIES = env.int("MODEL_MAX_RETRIES", default=2)
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=20000)
CHAT_RATE_LIMIT_PER_USER = env.str("CHAT_RATE_LIMIT_PER_USER", default="30/minute")
CHAT_RATE_LIMIT_PER_CLIENT = env.str("CHAT_RATE_LIMIT_PER_CLIENT", default="600/minute")
# How long an answer's worker lease lives without renewal: a worker that died
# mid-answer is noticed after this long, and its answer redone once.
CHAT_LEASE_SECONDS = env.int("CHAT_LEASE_SECONDS", default=15)
# Redis away mid-answer (restarting): the worker keeps the answer's text and
# sends it when Redis is back, for up to this long; then the answer fails.
CHAT_REDIS_PATIENCE_SECONDS = env.int("CHAT_REDIS_PATIENCE_SECONDS", default=60)
# After the first token (sent at once), an answer's text goes to the browser in
# batches at most this often: one Redis entry and one SSE event per batch.
CHAT_STREAM_FLUSH_MS = env.int("CHAT_STREAM_FLUSH_MS", default=40)
# ... lengthened by 1 ms per answer a worker process is writing, up to this:
# under load fewer, larger batches (one pipeline per batch for all answers).
CHAT_STREAM_FLUSH_MAX_MS = env.int("CHAT_STREAM_FLUSH_MAX_MS", default=150)
# The OpenAI-compatible API (api/): requests per personal access token, on top
# of the chat's per-person and per-client limits above. Format: <count>/<period>.
API_RATE_LIMIT_PER_TOKEN = env.str("API_RATE_LIMIT_PER_TOKEN", default="60/minute")
# An answer still pending after this many seconds had its task lost: it fails.
CHAT_PENDING_TIMEOUT_SECONDS = env.int("CHAT_PENDING_TIMEOUT_SECONDS", default=900)

# --- The answer path under faults (issue 12; llm/gateway.py, chat/services.py) ---
# An answer ends (its text so far kept, with a Retry button) this long after it
# started, however slowly the model drips...
CHAT_ANSWER_DEADLINE_SECONDS = env.int("CHAT_ANSWER_DEADLINE_SECONDS", default=300)
# ...or when the model sends nothing for this long (before the first token: the
# attempt is retried; after it: the answer ends "stalled").
CHAT_CHUNK_IDLE_SECONDS = env.float("CHAT_CHUNK_IDLE_SECONDS", default=MODEL_TIMEOUT_SECONDS)
# Waiting between attempts (Retry-After honoured) never adds up to more than
# this; a 429 asking for longer fails at once with a clear sentence.
CHAT_RETRY_WAIT_SECONDS = env.int("CHAT_RETRY_WAIT_SECONDS", default=60)
# A finished answer whose save fails (database down) is kept in Redis and the
# save retried this long by its worker; after that the abandoned-answer sweep
# saves it. Redis keeps it CHAT_FINAL_KEEP_SECONDS.
CHAT_FINAL_SAVE_SECONDS = env.int("CHAT_FINAL_SAVE_SECONDS", default=300)
CHAT_FINAL_KEEP_SECONDS = env.int("CHAT_FINAL_KEEP_SECONDS", default=7 * 86400)
# How often a watching browser's stream checks that a worker still holds the
# answer's lease (a dead worker's answer is redone once: CHAT_LEASE_SECONDS + this).
CHAT_STALE_CHECK_SECONDS = env.int("CHAT_STALE_CHECK_SECONDS", default=5)
# The answer stream's token (the stream_url's ?t=, chat/sse.py) is good this
# long: a stream opened in time runs to its end; a reconnect after it goes
# through Django and the session. Default: the answer deadline and a minute.
CHAT_STREAM_TOKEN_SECONDS = env.int("CHAT_STREAM_TOKEN_SECONDS",
                                    default=CHAT_ANSWER_DEADLINE_SECONDS + 60)
# Once an answer's text flows, the fast path writes to the browser at most
# this often, with every entry that came meanwhile (chat/stream_app.py).
CHAT_STREAM_SEND_MS = env.int("CHAT_STREAM_SEND_MS", default=100)
# Fair share: answers one client may have in flight (queued for or being
# written by a worker); more wait, shown as queued, in the client's own line,
# never in front of other clients' questions. Platform staff can set a
# client's own limit (Client.answers_in_flight_limit, in the admin).
CHAT_ANSWERS_IN_FLIGHT_PER_CLIENT = env.int("CHAT_ANSWERS_IN_FLIGHT_PER_CLIENT", default=100)
# One person's share of their client's answers in flight, so a colleague
# always finds room; 0: half the client's limit, at least 1. Per client:
# Client.answers_in_flight_per_person. The line is served round-robin
# between people (chat/slots.py).
CHAT_ANSWERS_IN_FLIGHT_PER_PERSON = env.int("CHAT_ANSWERS_IN_FLIGHT_PER_PERSON", default=0)
# A slot with no sign of life for this long (its worker died) is taken back.
CHAT_SLOT_STALE_SECONDS = env.int("CHAT_SLOT_STALE_SECONDS", default=120)
# Keys that encrypt clients' API keys at rest (Fernet, comma-separated, newest
# first; older ones still decrypt, so keys can be rotated).
ENCRYPTION_KEYS = env.list("TUNEAIBOT_ENCRYPTION_KEYS", default=[])
# Keys that sign the audit chain (HMAC): "id:secret" pairs, comma-separated,
# newest first; retired keys stay listed so their records still verify.
AUDIT_SIGNING_KEYS = env.list("TUNEAIBOT_AUDIT_KEYS", default=[])
DEV_MODE = env.bool("TUNEAIBOT_DEV", default=False)

# --- Model endpoints a client chooses (outbound URL policy, core/endpoint_policy.py)
# The platform's own OPENAI_BASE_URL is trusted. A client's base URL must be
# https and public; plain http only where this allows it (development, tests).
MODEL_ENDPOINT_ALLOW_HTTP = env.bool("MODEL_ENDPOINT_ALLOW_HTTP", default=False)
# Deliberate private endpoints (an on-premises gateway): host names, and/or
# networks (CIDR) whose addresses are allowed. Cloud metadata stays refused.
MODEL_ENDPOINT_ALLOWED_HOSTS = env.list("MODEL_ENDPOINT_ALLOWED_HOSTS", default=[])
MODEL_ENDPOINT_ALLOWED_NETWORKS = env.list("MODEL_ENDPOINT_ALLOWED_NETWORKS", default=[])


def _check_networks(cidrs: list[str]) -> list[str]:
    import ipaddress

    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError as exc:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                f"MODEL_ENDPOINT_ALLOWED_NETWORKS: {cidr!r} is not a network like 10.0.0.0/8."
            ) from exc
    return cidrs


_check_networks(MODEL_ENDPOINT_ALLOWED_NETWORKS)

# --- Knowledge files ----------------------------------------------------------------
# Largest upload (MB), and page / character limits per file.
KNOWLEDGE_MAX_UPLOAD_MB = env.int("KNOWLEDGE_MAX_UPLOAD_MB", default=25)
KNOWLEDGE_MAX_PAGES = env.int("KNOWLEDGE_MAX_PAGES", default=500)
KNOWLEDGE_MAX_CHARS = env.int("KNOWLEDGE_MAX_CHARS", default=3_000_000)
# Chunk size and overlap (characters), and how many passages go with a question.
KNOWLEDGE_CHUNK_CHARS = env.int("KNOWLEDGE_CHUNK_CHARS", default=1200)
KNOWLEDGE_CHUNK_OVERLAP = env.int("KNOWLEDGE_CHUNK_OVERLAP", default=200)
KNOWLEDGE_PASSAGES_PER_ANSWER = env.int("KNOWLEDGE_PASSAGES_PER_ANSWER", default=5)
# A file queued or processing this long without progress had its task lost: it
# ends failed with a Re-index button (beat checks every 5 minutes).
KNOWLEDGE_STALLED_AFTER_SECONDS = env.int("KNOWLEDGE_STALLED_AFTER_SECONDS", default=1800)
# Embeddings for semantic search (off per client until a tenant admin enables
# it). The vector column's size is fixed when migrations create it.
KNOWLEDGE_EMBEDDING_MODEL = env.str("KNOWLEDGE_EMBEDDING_MODEL", default="text-embedding-3-small")
KNOWLEDGE_EMBEDDING_DIMENSIONS = env.int("KNOWLEDGE_EMBEDDING_DIMENSIONS", default=1536)
# The local embedding models (semantic search's default, nothing leaves the
# workspace): "multilingual" adds the Universal Sentence Encoder multilingual
# vectors (ko/ja/en, across languages) in the background after a file is
# ready with WordLlama's (knowledge.multilingual; WordLlama alone if its
# package is missing or fails its SHA-256 check); "wordllama": WordLlama only
# (less CPU, English only).
KNOWLEDGE_LOCAL_MODEL = env.str("KNOWLEDGE_LOCAL_MODEL", default="multilingual")

# --- Single sign-on (tenants/sso) ---------------------------------------------------
# Password sign-in goes through this backend: it refuses members of a client whose
# sign-in is "SSO only" (except the break-glass admin).
# (tenants.sso.backends.SsoAwareModelBackend is in AUTHENTICATION_BACKENDS, after axes.)
# Tolerated clock difference with a client's OpenID Connect provider (seconds).
SSO_CLOCK_SKEW_SECONDS = env.int("SSO_CLOCK_SKEW_SECONDS", default=120)
# Timeout of each call to a provider (discovery, keys, token, userinfo).
SSO_HTTP_TIMEOUT_SECONDS = env.float("SSO_HTTP_TIMEOUT_SECONDS", default=10.0)
# How long a provider's discovery document and keys are cached (seconds).
SSO_METADATA_CACHE_SECONDS = env.int("SSO_METADATA_CACHE_SECONDS", default=3600)
# Providers must use https; plain http only for local development and tests.
SSO_ALLOW_HTTP_ISSUERS = env.bool("SSO_ALLOW_HTTP_ISSUERS", default=DEV_MODE)
# Allow providers on loopback/private addresses (local development and tests
# only). Otherwise a provider must resolve to public addresses, unless listed in
# MODEL_ENDPOINT_ALLOWED_HOSTS / MODEL_ENDPOINT_ALLOWED_NETWORKS.
SSO_ALLOW_PRIVATE_ISSUERS = env.bool("SSO_ALLOW_PRIVATE_ISSUERS", default=DEV_MODE)
# How long a started sign-in (state, nonce, PKCE verifier) stays valid (seconds).
SSO_LOGIN_TIMEOUT_SECONDS = env.int("SSO_LOGIN_TIMEOUT_SECONDS", default=600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}
