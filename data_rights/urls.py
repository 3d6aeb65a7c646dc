from django.urls import path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from data_rights import views

app_name = "privacy"

urlpatterns = [
    path("workspace-data/", views.workspace_data, name="workspace-data"),
    path("compliance/security-overview.pdf", views.overview_pdf, name="overview-pdf"),
    path("my-data/export/", views.my_data_export, name="my-data-export"),
    path("my-data/delete-conversations/", views.my_conversations_delete,
         name="my-conversations-delete"),
    path("settings/member-data/", views.members_data, name="members-data"),
    path("settings/member-data/<id:user_id>/export/", views.member_export,
         name="member-export"),
    path("settings/member-data/<id:user_id>/erase/", views.member_erase,
         name="member-erase"),
]
