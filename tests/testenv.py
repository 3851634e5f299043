"""Loaded with `-p tests.testenv` before Django starts: test-only environment defaults."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("STATIC_MANIFEST", "0")

# Tests never write into the checkout's var/: the SQLite file, media, mail and broker go here.
if "VAR_DIR" not in os.environ:
    import tempfile
    from pathlib import Path

    _var = Path(tempfile.mkdtemp(prefix="skillproof-test-"))
    (_var / "static").mkdir()
    os.environ["VAR_DIR"] = str(_var)

# Hypothesis (under schemathesis, in the fuzz campaign) keeps its caches with the run's files, not in the checkout.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(os.environ["VAR_DIR"], "hypothesis"))
