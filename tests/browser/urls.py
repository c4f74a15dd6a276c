"""The project's URLs plus the media files, so the live server shows the painting images
(``SERVE_MEDIA`` is off in the test settings, where no page is rendered in a browser)."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    re_path(
        rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}
    ),
    *project_urlpatterns,
]
handler404 = "config.exceptions.handler404"
handler500 = "config.exceptions.handler500"
