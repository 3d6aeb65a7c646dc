from django.urls import path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("", views.library, name="library"),
    path("status/", views.library_status, name="status"),
    path("upload/", views.library_upload, name="upload"),
    path("settings/", views.library_settings, name="settings"),
    path("files/<id:file_id>/delete/", views.file_delete, name="delete"),
    path("files/<id:file_id>/reindex/", views.file_reindex, name="reindex"),
    path("files/<id:file_id>/chunks/", views.file_chunks, name="chunks"),
    path("passages/<id:chunk_id>/", views.passage, name="passage"),
]
