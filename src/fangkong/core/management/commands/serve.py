"""`fangkong serve`: collect static files, then replace this process with granian serving the WSGI application.

Static files are served by the app itself (whitenoise): these networks are often closed to the outside.
granian reads HTTP in Rust and hands each request to one of a few Python threads per worker; a
request costs the server about a third less CPU than under gunicorn's threaded workers
(bench/sampling.py, the "floor" line), which a sampling site posting a swab a second feels.
"""

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

THREADS = 2

# The path without the query string: a search for a whole ID number or phone travels as ?q=...,
# and the access log must not keep it.
ACCESS_LOG_FORMAT = '%(addr)s [%(time)s] "%(method)s %(path)s" %(status)d %(dt_ms).1fms'


def host_and_port(bind: str) -> tuple[str, str]:
    """'127.0.0.1:8000' → ('127.0.0.1', '8000'); '[::1]:8000' → ('::1', '8000')."""
    host, colon, port = bind.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise CommandError(f"--bind 应为 地址:端口,例如 127.0.0.1:8000(收到 {bind})")
    return host.strip("[]"), port


def granian_argv(bind: str, workers: int) -> list[str]:
    host, port = host_and_port(bind)
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", port,
            "--no-ws", "--workers", str(workers), "--blocking-threads", str(THREADS), "--respawn-failed-workers",
            "--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT, "fangkong.wsgi:application"]


class Command(BaseCommand):
    help = "以生产方式运行网站(granian),静态文件由应用自身提供"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="监听地址,默认 127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2, help="工作进程数,默认 2")

    def handle(self, *args, bind, workers, **options):
        argv = granian_argv(bind, workers)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"fangkong 正在 http://{bind}/ 上运行(Ctrl-C 停止)")
        self.stdout.flush()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
        os.execv(argv[0], argv)
