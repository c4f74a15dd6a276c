"""Root URLconf."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api.urls")),
    path("", include("experiments.urls")),  # the staff analysis pages (experiments/<id>/analysis/)
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("users.urls")),
    path("", include("web.urls")),
]

handler404 = "config.exceptions.handler404"  # JSON under /api/ (config.middleware covers DEBUG)
handler500 = "config.exceptions.handler500"

if settings.SERVE_MEDIA:
    # Painting images and thumbnails; behind a proxy, serve the media volume there instead.
    urlpatterns.insert(
        0,
        re_path(
            rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        ),
    )
