from django.urls import path

from compliance import views

app_name = "compliance"

# The security overview is on both sites; the rest only on a client's site.
public_urlpatterns = [
    path("compliance/", views.overview, name="overview"),
    path("compliance/security-overview.pdf", views.overview_pdf, name="overview-pdf"),
]

urlpatterns = [
    path("compliance/", views.overview, name="overview"),
    path("compliance/notice/accept/", views.accept_notice, name="accept-notice"),
    path("settings/data-controls/", views.data_controls, name="data-controls"),
    path("settings/audit/", views.audit_log, name="audit"),
]
