from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.sso import oidc, selectors, services
from tenants.sso.models import SsoSettings

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SsoSettingsForm(forms.ModelForm):
    issuer = forms.URLField(
        label=gettext_lazy("Issuer (discovery URL)"), required=False, max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("The provider's issuer; its discovery document is read from "
                               "<issuer>/.well-known/openid-configuration."),
    )
    client_secret = forms.CharField(
        label=gettext_lazy("Client secret"), required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Stored encrypted; leave empty to keep the current one."),
    )

    class Meta:
        model = SsoSettings
        fields = ["enabled", "company_label", "issuer", "client_id", "scopes",
                  "allowed_domains", "groups_claim", "admin_group", "sso_only",
                  "break_glass_user"]
        widgets = {"allowed_domains": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "allowed_domains": gettext_lazy("One per line. Only these addresses get an "
                                            "account at their first sign-in."),
            "groups_claim": gettext_lazy("The ID token claim that lists the person's groups."),
            "admin_group": gettext_lazy("Members of this group become tenant admins at each "
                                        "sign-in, others become members. Leave empty to "
                                        "manage roles here."),
            "sso_only": gettext_lazy("Members cannot sign in with a password; only the "
                                     "break-glass administrator can. Turning it on signs "
                                     "out everyone who signed in with a password."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["break_glass_user"].queryset = selectors.break_glass_candidates()
        self.fields["break_glass_user"].help_text = _(
            "A tenant admin with a password who can still sign in if the provider fails.")
        self.fields["company_label"].help_text = _('Shown as "Sign in with <name>".')
        self.metadata: dict | None = None

    def clean_allowed_domains(self) -> str:
        domains = []
        for raw in re.split(r"[\s,;]+", self.cleaned_data["allowed_domains"].lower()):
            domain = raw.strip().removeprefix("@")
            if not domain:
                continue
            if not DOMAIN_RE.match(domain):
                raise forms.ValidationError(
                    _("'%(domain)s' is not a domain name like example.com.") % {"domain": raw})
            domains.append(domain)
        return "\n".join(dict.fromkeys(domains))

    def clean_issuer(self) -> str:
        issuer = self.cleaned_data["issuer"].strip()
        if issuer:
            try:
                oidc.check_issuer_url(issuer)
            except oidc.ProviderError as exc:
                raise forms.ValidationError(exc.detail) from exc
        return issuer

    def clean_scopes(self) -> str:
        scopes = self.cleaned_data["scopes"].split()
        if "openid" not in scopes:
            scopes.insert(0, "openid")
        return " ".join(dict.fromkeys(scopes))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("enabled"):
            for field in ("issuer", "client_id", "allowed_domains"):
                if not data.get(field):
                    self.add_error(field, _("Needed to turn single sign-on on."))
            if not data.get("client_secret") and not self.instance.client_secret_encrypted:
                self.add_error("client_secret", _("Needed to turn single sign-on on."))
        if data.get("sso_only"):
            if not data.get("enabled"):
                self.add_error("sso_only", _("Turn single sign-on on first."))
            if not data.get("break_glass_user"):
                self.add_error("break_glass_user", _(
                    "Choose a break-glass administrator, so someone can still sign in "
                    "if the provider fails."))
        if data.get("enabled") and data.get("issuer") and not self.errors:
            try:
                self.metadata = services.check_provider(issuer=data["issuer"])
            except oidc.ProviderError as exc:
                self.add_error("issuer", _("The provider could not be checked: %(detail)s")
                               % {"detail": exc.detail})
        return data
