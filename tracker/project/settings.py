"""Skillproof settings: one file, configured from the environment.

Every variable has a default that runs with nothing installed but Python (SQLite, kombu's
filesystem broker). `.env.example` lists them all; production sets `DEBUG=0`, `SECRET_KEY`,
`ALLOWED_HOSTS`, `DATABASE_URL` and `CELERY_BROKER_URL`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

# Lets generic classes (UserCreationForm[User], ModelSerializer[Claim]) be subscripted at runtime.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parents[2]


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envcounts(name: str, default: str) -> dict[str, int]:
    """`a=1,b=2` as {"a": 1, "b": 2}; a pair that is not name=whole number is refused at start-up."""
    counts = {}
    for pair in envlist(name, default):
        key, _, value = pair.partition("=")
        if not key.strip() or not value.strip().isdigit():
            raise ImproperlyConfigured(f"{name}: {pair!r} is not name=count (e.g. jax=1).")
        counts[key.strip()] = int(value)
    return counts


DEBUG = envbool("DEBUG", False)
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment (or DEBUG=1 for development).")
    # Development only: a fixed key would be guessable, so use a per-checkout one instead.
    SECRET_KEY = "dev-insecure-" + str(BASE_DIR)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "tracker",
    "evidence",
    "trainer",
    "credentials",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Checks Content-Length in the request phase, before any process_view (CSRF) reads the body.
    "tracker.project.middleware.RequestSizeLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a login refused for too many failures into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]
# Prometheus: request latency by view (first, so it times everything), scraped at /metrics (tracker/project/metrics.py).
MIDDLEWARE.insert(0, "tracker.project.metrics.RequestMetricsMiddleware")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = [
    n.strip() for n in os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128").split(",") if n.strip()
]

ROOT_URLCONF = "tracker.project.urls"
WSGI_APPLICATION = "tracker.project.wsgi.application"

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
                "tracker.project.context_processors.site",
                "evidence.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web, worker and dataset builder share the file: wait for locks instead of failing at once. IMMEDIATE takes
    # the write lock when a transaction starts, so a transaction that reads and then writes never finds the lock
    # taken halfway (SQLite fails such an upgrade at once, without waiting); WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so that a real worker process started by the tests sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tracker.User"
# Axes first: it refuses a locked-out login before any password is checked (it logs nobody in itself).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Hashed, compressed static files need `collectstatic` first (make run and the images do it);
# development and tests serve them straight from the source folders instead.
STATIC_MANIFEST = envbool("STATIC_MANIFEST", not DEBUG)
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploads bigger than this are refused before they reach a view (bytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", 1024 * 1024)
# Framework files uploaded for a preview wait here until the admin confirms (or for an hour); the form carries only
# a signed name for the file, never the parsed tree.
IMPORT_STAGING_DIR = Path(os.environ.get("IMPORT_STAGING_DIR", VAR_DIR / "imports"))
IMPORT_STAGING_SECONDS = 3600
# Whole request bodies above this are refused with 413 before they are read (uploads included).
MAX_REQUEST_BYTES = envint("MAX_REQUEST_BYTES", 30 * 1024 * 1024)

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Skillproof <noreply@localhost>")

# Security: strict by default when DEBUG is off; the proxy in front terminates TLS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# Container health checks call /healthz over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every response: scripts and styles from this site only, never inline
# (htmx's own indicator style is turned off in base.html); style attributes are allowed for the
# progress bars' widths; nothing may frame the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Accounts and abuse (tracker/throttling.py, tracker/tokens.py). API tokens expire after API_TOKEN_DAYS.
API_TOKEN_DAYS = envint("API_TOKEN_DAYS", 30)
# Proxies in front that append the client's address to X-Forwarded-For (0: trust REMOTE_ADDR only).
PROXY_COUNT = envint("PROXY_COUNT", 0)
# LOGIN_FAILURE_LIMIT wrong passwords for one account, or from one address, lock it out for
# LOGIN_LOCKOUT_MINUTES, doubled for every further LOGIN_FAILURE_LIMIT failures within a day (django-axes).
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 10)
LOGIN_LOCKOUT_MINUTES = envint("LOGIN_LOCKOUT_MINUTES", 5)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = "tracker.throttling.login_cool_off"
# Each attempt record lives as long as the lockout it caused, not as long as the shortest one.
AXES_USE_ATTEMPT_EXPIRATION = True
# The failure log outlives the lockouts: it is what makes the next lockout longer.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "tracker.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "tracker.throttling.lockout_response"
AXES_VERBOSE = False
# Successful logins are not logged (that table would only grow); failures are, for the lockouts above.
AXES_DISABLE_ACCESS_LOG = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call then gets 401 with WWW-Authenticate, not a bare 403.
        "tracker.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # drf-spectacular's, listing every error status an operation can answer besides its success.
    "DEFAULT_SCHEMA_CLASS": "tracker.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's, with `page` validated (400 naming it) like every other query parameter.
    "DEFAULT_PAGINATION_CLASS": "tracker.project.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tracker.api.exception_handler",
    # JSON first (deep nesting is a 400, not a 500), then DRF's form and multipart parsers as before.
    "DEFAULT_PARSER_CLASSES": [
        "tracker.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Skillproof API",
    "DESCRIPTION": "Competencies, evidence, reviews and trusted Keras training runs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CompetencyStatusEnum": "tracker.models.Competency.Status",
        "EvidenceStatusEnum": "evidence.models.Status",
        "EvidenceKindEnum": "evidence.models.Kind",
    },
}

# Celery. The embedded default is kombu's filesystem transport: no broker to install.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    # kombu expects its folders to exist; the web process and the worker both may start first.
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # The exchange tables (broadcasts, `celery inspect`); kombu's default is ./control, in whatever
        # folder the process happened to start.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        # The folder is polled: 0.1 s keeps a submitted run from waiting a second for its worker.
        "polling_interval": 0.1,
    }
    # kombu's filesystem transport, with messages renamed into place and bad ones skipped (see the module).
    CELERY_BROKER_TRANSPORT: str | None = "tracker.project.broker:Transport"
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 7200)}
    CELERY_BROKER_TRANSPORT = None
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Trusted training (trainer/). See README "Training sandbox".
TRAINER_DATA_DIR = Path(os.environ.get("TRAINER_DATA_DIR", VAR_DIR / "datasets"))
# Seeds the generated test splits (hex, 32+ digits). Empty: a secret file created in TRAINER_DATA_DIR at the
# first build. Set it (the same on every worker machine) when several machines build their own datasets.
TRAINER_DATASET_SECRET = os.environ.get("TRAINER_DATASET_SECRET", "")
# "bwrap" (default) or "none" (development only: learner code runs unsandboxed; every page says so).
TRAINER_SANDBOX = os.environ.get("TRAINER_SANDBOX", "bwrap")
# Job folders and the sandbox runtime must be reachable by the unprivileged sandbox user, so they
# live outside the checkout (which may sit under /root); one folder per checkout.
TRAINER_ROOT = Path(
    os.environ.get(
        "TRAINER_ROOT",
        # sandbox_setup and the runner refuse this folder unless it is ours and private to write.
        f"/var/tmp/skillproof-{hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:8]}",  # noqa: S108
    )
)
TRAINER_RUNTIME_DIR = Path(os.environ.get("TRAINER_RUNTIME_DIR", TRAINER_ROOT / "runtime"))
TRAINER_PYTHON = os.environ.get("TRAINER_PYTHON", "/usr/bin/python3")
TRAINER_SANDBOX_USER = os.environ.get("TRAINER_SANDBOX_USER", "skillproof-sandbox")
TRAINER_POOL_SIZE = envint("TRAINER_POOL_SIZE", 2)
# The engines this installation installs (manage.py sandbox_setup) and offers: tensorflow, jax, torch, tf_keras, r
# (r needs Debian's r-base-core and r-cran-reticulate).
# By default R is among them where Debian's R is installed (Rscript on PATH): a machine without it still trains on
# every Python engine instead of refusing to set the sandbox up. Named explicitly, every engine listed is required.
TRAINER_ENGINES = envlist(
    "TRAINER_ENGINES", "tensorflow,jax,torch,tf_keras" + (",r" if shutil.which("Rscript") else "")
)
# Warm sandboxes per engine and worker process, as engine=count pairs (e.g. jax=1,torch=1); an engine not named
# keeps none warm, so its runs start their sandboxes cold (the run page says so). TensorFlow: TRAINER_POOL_SIZE.
TRAINER_POOL_SIZES = {"tensorflow": TRAINER_POOL_SIZE} | envcounts("TRAINER_POOL_SIZES", "")
TRAINER_WARM_MEMORY_MB = envint("TRAINER_WARM_MEMORY_MB", 2048)
TRAINER_PIDS_MAX = envint("TRAINER_PIDS_MAX", 256)
# CPU cores one sandbox may use (a cgroup quota; fractions allowed): by default all but one, which is left
# to the web server and the database on a shared host.
TRAINER_CPUS = float(os.environ.get("TRAINER_CPUS") or max(1, (os.cpu_count() or 1) - 1))
# Batches per TensorFlow call when the harness runs fit() for a model compiled with Keras's default of 1 and no
# per-batch callback of the learner's (trainer/harness/harness.py steps_for): same results, less per-step overhead
# on a CPU (measured in the README's "Benchmarks"). 1 turns it off.
TRAINER_STEPS_PER_EXECUTION = envint("TRAINER_STEPS_PER_EXECUTION", 16)
TRAINER_FSIZE_MB = envint("TRAINER_FSIZE_MB", 512)
TRAINER_JOB_DISK_MB = envint("TRAINER_JOB_DISK_MB", 1024)
TRAINER_NOFILE = envint("TRAINER_NOFILE", 1024)
TRAINER_LOG_TAIL_BYTES = envint("TRAINER_LOG_TAIL_BYTES", 64 * 1024)
TRAINER_MODEL_MAX_MB = envint("TRAINER_MODEL_MAX_MB", 100)
TRAINER_HEARTBEAT_STALE_SECONDS = envint("TRAINER_HEARTBEAT_STALE_SECONDS", 120)
TRAINER_MAX_ATTEMPTS = envint("TRAINER_MAX_ATTEMPTS", 3)
TRAINER_SUBMISSION_MAX_MB = envint("TRAINER_SUBMISSION_MAX_MB", 20)
# Queued runs older than this are sent to the broker again (a restarted broker may have lost them).
TRAINER_REQUEUE_SECONDS = envint("TRAINER_REQUEUE_SECONDS", 300)
# Runs of tasks that need an accelerator go to their own Celery queue, consumed only by workers started for
# it (`celery worker -Q gpu`, or `-Q celery,gpu`); every other run goes to Celery's default queue.
TRAINER_CPU_QUEUE = "celery"
TRAINER_GPU_QUEUE = os.environ.get("TRAINER_GPU_QUEUE", "gpu")
# Each worker says it is alive this often (trainer.workers); a queue no worker has served for
# TRAINER_NO_WORKER_MINUTES is shown to the learners waiting on it and in /healthz.
TRAINER_WORKER_BEAT_SECONDS = envint("TRAINER_WORKER_BEAT_SECONDS", 15)
TRAINER_NO_WORKER_MINUTES = envint("TRAINER_NO_WORKER_MINUTES", 5)
TRAINER_REAP_INTERVAL_SECONDS = envint("TRAINER_REAP_INTERVAL_SECONDS", 30)
# Attempts: site-wide quotas (tasks and learners may have their own), retention and storage.
TRAINER_ATTEMPTS_PER_DAY = envint("TRAINER_ATTEMPTS_PER_DAY", 20)
TRAINER_MAX_ACTIVE = envint("TRAINER_MAX_ACTIVE", 2)
TRAINER_ATTEMPT_RETENTION_DAYS = envint("TRAINER_ATTEMPT_RETENTION_DAYS", 30)
TRAINER_STORAGE_MB = envint("TRAINER_STORAGE_MB", 500)
# The files of withdrawn or rejected evidence are deleted this long after its last change.
EVIDENCE_FILE_RETENTION_DAYS = envint("EVIDENCE_FILE_RETENTION_DAYS", 180)
# Signed credentials (credentials/keys.py): the issuer's Ed25519 keys as Multikeys, oldest first, the last signs.
# From CREDENTIALS_SIGNING_KEY (comma-separated) if set, else from the key file (one per line, mode 0600).
CREDENTIALS_SIGNING_KEY = os.environ.get("CREDENTIALS_SIGNING_KEY", "")
CREDENTIALS_KEY_FILE = Path(os.environ.get("CREDENTIALS_KEY_FILE", VAR_DIR / "credentials_keys"))
# Issued credentials expire this many days after issue (validUntil); 0: they do not expire.
CREDENTIALS_VALID_DAYS = envint("CREDENTIALS_VALID_DAYS", 0)
# The largest credential (JSON) the verify page and API accept.
CREDENTIALS_VERIFY_MAX_BYTES = envint("CREDENTIALS_VERIFY_MAX_BYTES", 256 * 1024)
CELERY_BEAT_SCHEDULE = {
    "reap-training-runs": {"task": "trainer.tasks.reap_runs", "schedule": float(TRAINER_REAP_INTERVAL_SECONDS)},
    "prune-attempts": {"task": "trainer.tasks.prune_attempts", "schedule": 3600.0},
    "prune-evidence-files": {"task": "evidence.tasks.prune_evidence_files", "schedule": 3600.0},
    "prune-login-records": {"task": "tracker.tasks.prune_login_records", "schedule": 3600.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
