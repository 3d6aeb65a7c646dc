from django.urls import path

from tenants.two_step import views

app_name = "two_step"

urlpatterns = [
    path("", views.setup, name="setup"),
    path("verify/", views.verify, name="verify"),
    path("passkey/sign-in/options/", views.passkey_sign_in_options,
         name="passkey-sign-in-options"),
    path("passkey/sign-in/", views.passkey_sign_in, name="passkey-sign-in"),
    path("passkey/register/options/", views.passkey_register_options,
         name="passkey-register-options"),
    path("passkey/register/", views.passkey_register, name="passkey-register"),
    path("authenticator-app/", views.totp, name="totp"),
    path("recovery-codes/", views.codes, name="codes"),
    path("recovery-codes/new/", views.new_recovery_codes, name="new-recovery-codes"),
    path("remove/<str:kind>/<int:factor_id>/", views.remove, name="remove"),
    path("policy/", views.policy, name="policy"),
    path("members/<int:pk>/reset/", views.member_reset, name="member-reset"),
]
