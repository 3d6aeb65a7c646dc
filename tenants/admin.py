from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tenants.utils import get_public_schema_name, schema_context

from core import ids  # noqa: F401 - registers the <id:...> path converter
from tenants import services
from tenants.members import selectors as member_selectors
from tenants.members import services as member_services
from tenants.models import Client, Domain
from tenants.two_step import selectors as two_step_selectors
from tenants.two_step import services as two_step_services


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class ClientCreationForm(forms.ModelForm):
    """Onboarding a client from the admin goes through the provisioning service."""

    admin_email = forms.EmailField(label=_("Admin email"),
                                   help_text=_("The client's first tenant admin."))

    class Meta:
        model = Client
        fields = ("name", "slug", "country")

    def clean(self):
        data = super().clean()
        try:
            services.validate_new_client(
                name=data.get("name", ""), slug=data.get("slug", ""),
                admin_email=data.get("admin_email", ""), country=data.get("country", ""),
            )
        except services.ProvisioningError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data

    def save(self, commit=True):
        self.provisioned = services.create_client(
            name=self.cleaned_data["name"], slug=self.cleaned_data["slug"],
            admin_email=self.cleaned_data["admin_email"],
            country=self.cleaned_data["country"],
        )
        self.instance = self.provisioned.client
        return self.instance

    def save_m2m(self):
        return None


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "country", "status", "created")
    list_filter = ("status",)
    search_fields = ("name", "slug")
    readonly_fields = ("schema_name", "slug", "country", "created", "sign_in_lockouts",
                       "admins_two_step")
    fields = ("name", "slug", "country", "schema_name", "status", "answers_in_flight_limit",
              "answers_in_flight_per_person", "second_factor", "created", "sign_in_lockouts",
              "admins_two_step")
    inlines = [DomainInline]

    @admin.display(description=_("Sign-in lockouts"))
    def sign_in_lockouts(self, obj):
        with schema_context(obj.schema_name):
            accounts = len(member_selectors.locked_out_emails())
            addresses = len(member_selectors.locked_out_addresses())
        summary = _("%(accounts)s, %(addresses)s paused now") % {
            "accounts": ngettext("%(n)d account", "%(n)d accounts", accounts) % {"n": accounts},
            "addresses": ngettext("%(n)d network address", "%(n)d network addresses",
                                  addresses) % {"n": addresses},
        }
        url = reverse("admin:tenants_client_lockouts", args=[obj.pk])
        return format_html('{} — <a href="{}">{}</a>', summary, url, _("see and unlock"))

    @admin.display(description=_("Two-step sign-in of tenant admins"))
    def admins_two_step(self, obj):
        url = reverse("admin:tenants_client_two_step", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("see and reset"))

    def get_urls(self):
        lockouts = path("<id:client_id>/sign-in-lockouts/",
                        self.admin_site.admin_view(self.lockouts_view),
                        name="tenants_client_lockouts")
        two_step = path("<id:client_id>/two-step/",
                        self.admin_site.admin_view(self.two_step_view),
                        name="tenants_client_two_step")
        return [lockouts, two_step, *super().get_urls()]

    def two_step_view(self, request, client_id: int):
        """Staff reset the second factor of a client's tenant admin (recorded in
        the client's own list of changes); the client's admins reset members."""
        client = get_object_or_404(self.get_queryset(request), pk=client_id)
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        with schema_context(client.schema_name):
            if request.method == "POST":
                admin_user = member_selectors.tenant_admin(pk=request.POST.get("user"))
                if admin_user is None:
                    messages.error(request, _("That tenant admin no longer exists."))
                else:
                    two_step_services.reset_by_staff(user=admin_user, staff=request.user)
                    messages.success(request, _(
                        "The two-step sign-in of %(email)s was reset: they set it up again at "
                        "their next sign-in.") % {"email": admin_user.email})
                return redirect("admin:tenants_client_two_step", client_id=client.pk)
            admins = list(member_selectors.tenant_admins())
            with_factor = two_step_selectors.users_with_factor()
        return TemplateResponse(request, "admin/tenants/client/two_step.html", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "original": client, "client": client,
            "title": _("Two-step sign-in of the tenant admins of %(client)s")
            % {"client": client.name},
            "admins": [(user, user.pk in with_factor) for user in admins],
        })

    def lockouts_view(self, request, client_id: int):
        """Staff see and lift the sign-in pauses of any client (in its own schema)."""
        client = get_object_or_404(self.get_queryset(request), pk=client_id)
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        if request.method == "POST":
            try:
                with schema_context(client.schema_name):
                    member_services.unlock_sign_in(email=request.POST.get("email"),
                                                   ip_address=request.POST.get("ip_address"))
            except member_services.MemberError as exc:
                messages.error(request, str(exc))
            else:
                what = request.POST.get("email") or request.POST.get("ip_address")
                messages.success(request, _("%(what)s can sign in to %(client)s again.")
                                 % {"what": what, "client": client.name})
            return redirect("admin:tenants_client_lockouts", client_id=client.pk)
        with schema_context(client.schema_name):
            accounts = member_selectors.locked_out_emails()
            addresses = member_selectors.locked_out_addresses()
        return TemplateResponse(request, "admin/tenants/client/lockouts.html", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "original": client, "client": client,
            "title": _("Sign-in lockouts of %(client)s") % {"client": client.name},
            "accounts": accounts, "addresses": addresses,
        })

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name=get_public_schema_name())

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ClientCreationForm
            kwargs["fields"] = ("name", "slug", "country", "admin_email")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        return self.fields if obj else ("name", "slug", "country", "admin_email")

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
