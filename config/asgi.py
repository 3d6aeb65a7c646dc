import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

# Static files are served by the app itself so the one-command run needs no
# separate web server; production may put a CDN or proxy in front.
application = ASGIStaticFilesHandler(django_application)
