"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

Each setting can be overridden on the command line or with GUNICORN_CMD_ARGS.

gunicorn never faces clients itself: a sync worker serves one connection at a time, so a few
clients sending a request slowly would hold every worker. It listens on loopback (or a private
address only the proxy can reach) behind nginx, which reads whole requests first
(deploy/nginx.conf; docs/deployment.md, "Production: behind nginx").
"""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: the app is CPU-light and database-bound; two per core keeps both cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30  # a request that takes longer than this is stuck; the worker is replaced
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so slow growth can never pile up. A new worker starts with its
# caches empty (compiled templates, kept page parts, checked cookies, connections), and workers
# started together reach the limit together: at 5,000 +- 500 all five restarted within 3 s of one
# another under load, halving the next few seconds' throughput. Rarer, and spread out.
max_requests = 20000
max_requests_jitter = 5000
preload_app = True
accesslog = "-"
errorlog = "-"
# Who, what, status, size, time in microseconds: no query strings with personal data, no cookies.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(D)sus'
# Whose X-Forwarded-Proto gunicorn believes (for wsgi.url_scheme): only the proxy's address.
# The app's own PROXY_HOPS decides separately whose X-Forwarded-For it believes.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def pre_fork(server, worker):
    """Before each worker is forked from the master (which loaded the app: preload_app), hide the
    master's objects from the garbage collector.

    They live as long as the worker, yet every full collection in a worker walked all of them
    (116-118 ms for the app's ~216,000 objects, measured in process: one in about 6,000 quiz
    pages, a stall that lands in the p99) and touched them, copying the master's memory pages
    into the worker. Frozen (gc.freeze), a worker's full collections see only its own objects.
    """
    gc.freeze()


def on_starting(server):
    """Say loudly, first thing, when the app is not on its production settings.

    Without APP_ENV=production, config.py picks the development settings: none of production's
    checks (a real SECRET_KEY, DATABASE_URL, https PUBLIC_URL, a mail server), a secret key made
    in instance/, cookies without Secure, no HSTS, and a SQLite database in instance/ unless
    DATABASE_URL is set. Only a warning: benchmarks and tests serve other settings on purpose.
    """
    name = os.environ.get("APP_ENV", "")
    if name != "production":
        shown = f"APP_ENV is {name!r}" if name else "APP_ENV is not set"
        server.log.warning(
            "%s: gunicorn is serving the %s settings, not production's (no checks of SECRET_KEY, "
            "DATABASE_URL, PUBLIC_URL or MAIL_SERVER; cookies without Secure; no HSTS). "
            "For a real site set APP_ENV=production (docs/deployment.md).",
            shown,
            name or "development",
        )
