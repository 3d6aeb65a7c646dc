from django import forms
from django.contrib import admin, messages
from django.db import connection
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from tenants import services
from tenants.models import Client, Domain


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class ClientCreationForm(forms.ModelForm):
    """Onboarding a client from the admin goes through the provisioning service."""

    admin_email = forms.EmailField(label=_("Admin email"),
                                   help_text=_("The client's first tenant admin."))

    class Meta:
        model = Client
        fields = ("name", "slug")

    def clean(self):
        data = super().clean()
        try:
            services.validate_new_client(
                name=data.get("name", ""), slug=data.get("slug", ""),
                admin_email=data.get("admin_email", ""),
            )
        except services.ProvisioningError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data

    def save(self, commit=True):
        self.provisioned = services.create_client(
            name=self.cleaned_data["name"], slug=self.cleaned_data["slug"],
            admin_email=self.cleaned_data["admin_email"],
        )
        self.instance = self.provisioned.client
        return self.instance

    def save_m2m(self):
        return None


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "status", "created")
    list_filter = ("status",)
    search_fields = ("name", "slug")
    readonly_fields = ("schema_name", "slug", "created")
    fields = ("name", "slug", "schema_name", "status", "created")
    inlines = [DomainInline]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name=get_public_schema_name())

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ClientCreationForm
            kwargs["fields"] = ("name", "slug", "admin_email")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        return self.fields if obj else ("name", "slug", "admin_email")

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            provisioned = form.provisioned
            messages.warning(
                request,
                _("Client created at %(url)s — tenant admin %(email)s, password %(password)s "
                  "(shown once; ask them to change it).") % {
                    "url": services.site_url(provisioned.domain.domain),
                    "email": provisioned.admin.email, "password": provisioned.admin_password},
            )
            return
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        services.delete_client(client=obj)

    def delete_queryset(self, request, queryset):
        for client in queryset:
            services.delete_client(client=client)

    def has_module_permission(self, request):
        # The Django admin is for platform staff on the platform site only.
        return connection.schema_name == get_public_schema_name() and super().has_module_permission(
            request
        )
