from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from tenants.members.models import User


class _NormalizedEmail:
    """E-mail addresses are stored trimmed and lower-case, so logins match them."""

    def clean_email(self):
        return User.objects.normalize_login(self.cleaned_data.get("email"))


class StaffUserCreationForm(_NormalizedEmail, AdminUserCreationForm):
    pass


class StaffUserChangeForm(_NormalizedEmail, UserChangeForm):
    pass


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    add_form = StaffUserCreationForm
    form = StaffUserChangeForm
    ordering = ("email",)
    list_display = ("email", "role", "is_staff", "is_active")
    search_fields = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Role", {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
