"""The WSGI application `fangkong serve` runs under granian.

The URL configuration (every app's views and API, pypinyin's tables) is loaded when a worker
starts rather than by its first request, which would otherwise wait about two seconds.

Everything loaded by then lives as long as the worker, so it is frozen out of the garbage
collector's reach: otherwise each full collection walks those objects again, and the request it
falls on (a device's batch of a thousand samples, say) waits about 100 ms longer.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
application = get_wsgi_application()
url_patterns = get_resolver().url_patterns  # imports every URLconf, view and router now
gc.freeze()
