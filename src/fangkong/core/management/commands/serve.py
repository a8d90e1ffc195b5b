"""`fangkong serve`: collect static files, then replace this process with gunicorn.

Static files are served by the app itself (whitenoise): these networks are often closed to the outside.
"""

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

THREADS = 4
TIMEOUT_SECONDS = 120

# Path without the query string (%(U)s, not %(r)s): a search for a whole ID number or phone
# travels as ?q=..., and the access log must not keep it.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


def gunicorn_argv(bind: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "fangkong.wsgi", "--bind", bind, "--workers", str(workers),
            "--threads", str(THREADS), "--timeout", str(TIMEOUT_SECONDS), "--access-logfile", "-",
            "--access-logformat", ACCESS_LOG_FORMAT, "--no-control-socket"]


class Command(BaseCommand):
    help = "以生产方式运行网站(gunicorn),静态文件由应用自身提供"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="监听地址,默认 127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2, help="工作进程数,默认 2")

    def handle(self, *args, bind, workers, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"fangkong 正在 http://{bind}/ 上运行(Ctrl-C 停止)")
        self.stdout.flush()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
        argv = gunicorn_argv(bind, workers)
        os.execv(argv[0], argv)
