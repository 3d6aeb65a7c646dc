import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

# Load both sites' views (and what they import) before the server accepts
# connections: /healthz answers before any URLconf is loaded, so without this
# the first real page of each process would pay for the imports.
for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
    get_resolver(urlconf).url_patterns  # noqa: B018 - loading is the point

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

# Static files are served by the app itself so the one-command run needs no
# separate web server; production may put a CDN or proxy in front.
application = ASGIStaticFilesHandler(django_application)
