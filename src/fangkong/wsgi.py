"""The WSGI application `fangkong serve` runs under granian.

The URL configuration (every app's views and API, pypinyin's tables) is loaded when a worker
starts rather than by its first request, which would otherwise wait about two seconds.
"""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
application = get_wsgi_application()
get_resolver().url_patterns
