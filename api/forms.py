from django import forms
from django.utils.translation import gettext_lazy as _

from api.services import DEFAULT_DAYS, MAX_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80,
                           help_text=_("What will use it, e.g. “Spreadsheet macro”."))
    days = forms.IntegerField(label=_("Expires after (days)"), min_value=1,
                              max_value=MAX_DAYS, initial=DEFAULT_DAYS)


class ApiSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Members may use the API"), required=False)
    cors_origins = forms.CharField(
        label=_("Web pages allowed to call the API from a browser (CORS)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One origin per line, such as https://tools.example.com. Leave empty "
                    "to refuse calls from web pages of other sites."))

    def clean_cors_origins(self) -> list[str]:
        return self.cleaned_data["cors_origins"].splitlines()
