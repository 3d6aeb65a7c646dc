from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tenants.members.models import User


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices,
                             initial=User.Role.MEMBER)


class LanguageForm(forms.Form):
    """A person's interface language; empty follows the workspace's default."""

    language = forms.ChoiceField(
        label=_("Your language"), required=False,
        choices=[("", _("Workspace default"))] + list(settings.LANGUAGES),
    )


class WorkspaceLanguageForm(forms.Form):
    """The workspace's default language (tenant admins); empty follows each browser."""

    default_language = forms.ChoiceField(
        label=_("Default language for this workspace"), required=False,
        choices=[("", _("Each person's browser language"))] + list(settings.LANGUAGES),
        help_text=_("Used for everyone who has not chosen a language of their own."),
    )
