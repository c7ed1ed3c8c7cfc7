"""Settings for the test suite: the real settings with a fast password hasher and a task queue
that tests drain themselves (``run_tasks`` fixture), so they decide when the worker runs."""

import os
import tempfile

os.environ.setdefault("KINFOLK_DATA_DIR", tempfile.mkdtemp(prefix="kinfolk-test-"))

from kinfolk.settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The queue the site uses (Redis when REDIS_URL is set, else in memory rather than a SQLite file
# so that tests never share it), under a name of this run's own.
HUEY = {
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.MemoryHuey",
    "name": f"kinfolk-tests-{os.getpid()}",
    "immediate": False,
    **({"connection": {"url": REDIS_URL}} if REDIS_URL else {}),
}
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if DATABASES["default"]["ENGINE"] == "kinfolk.core.sqlite":
    # A file, not pytest-django's in-memory default: the concurrency tests open the test database
    # from several threads and processes, which an in-memory database cannot share. Inside the
    # data folder, so that runs with their own KINFOLK_DATA_DIR never meet.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-kinfolk.sqlite3")}

# Whitenoise warns about a missing static folder on every test client request; the real site
# has one from collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
