import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
application = get_wsgi_application()

# built once in gunicorn's master (--preload) and kept out of the garbage collector's full passes
# in every worker (kehu/core/warmup.py)
from kehu.core.warmup import prepare_process  # noqa: E402

prepare_process()
