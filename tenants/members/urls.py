from django.contrib.auth import views as auth_views
from django.urls import path

from core import ids  # noqa: F401 - registers the <id:...> path converter
from tenants.members import views
from tenants.two_step.views import TwoStepLoginView

urlpatterns = [
    # A right password leads to the second step when one is due (tenants.two_step).
    path("login/", TwoStepLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("members/", views.member_list, name="members"),
    path("language/", views.language_settings, name="language"),
    path("members/<id:pk>/active/", views.member_set_active, name="member-set-active"),
    path("members/<id:pk>/unlock/", views.member_unlock, name="member-unlock"),
]
