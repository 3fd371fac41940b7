"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

Each setting can be overridden on the command line or with GUNICORN_CMD_ARGS.

gunicorn never faces clients itself: a sync worker serves one connection at a time, so a few
clients sending a request slowly would hold every worker. It listens on loopback (or a private
address only the proxy can reach) behind nginx, which reads whole requests first
(deploy/nginx.conf; docs/deployment.md, "Production: behind nginx").
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: the app is CPU-light and database-bound; two per core keeps both cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30  # a request that takes longer than this is stuck; the worker is replaced
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers now and then, so slow growth can never pile up
max_requests_jitter = 500
preload_app = True
accesslog = "-"
errorlog = "-"
# Who, what, status, size, time in microseconds: no query strings with personal data, no cookies.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(D)sus'
# Whose X-Forwarded-Proto gunicorn believes (for wsgi.url_scheme): only the proxy's address.
# The app's own PROXY_HOPS decides separately whose X-Forwarded-For it believes.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
