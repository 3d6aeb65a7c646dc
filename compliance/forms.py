from django import forms
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from compliance.entities import SUPPORTED_ENTITIES
from compliance.models import DataControls


class DataControlsForm(forms.ModelForm):
    redaction_entities = forms.MultipleChoiceField(
        # Labels are marked for translation where they are defined; shown translated.
        choices=[(entity, gettext_lazy(label)) for entity, label in SUPPORTED_ENTITIES.items()],
        required=False, widget=forms.CheckboxSelectMultiple, label=_("Kinds of data to redact"))
    redaction_terms = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}),
        label=_("Terms to always redact"),
        help_text=_("One per line: names of people, customers, projects. Matched as whole "
                    "words, ignoring case."))

    class Meta:
        model = DataControls
        fields = ["redaction_enabled", "redaction_entities", "redaction_terms", "restore_secrets",
                  "conversation_retention_days", "file_retention_days",
                  "monthly_token_quota", "user_monthly_token_quota"]
        labels = {
            "redaction_enabled": _("Redact personal data before it is sent to the model"),
            "restore_secrets": _("Show pasted secrets again in answers"),
            "conversation_retention_days": _("Delete conversations after (days without use)"),
            "file_retention_days": _("Delete library files after (days)"),
            "monthly_token_quota": _("Monthly token quota for the workspace"),
            "user_monthly_token_quota": _("Monthly token quota per person"),
        }
        help_texts = {
            "restore_secrets": _("Off: an answer shows a placeholder such as <SECRET_1> "
                                 "where the secret was. The model never sees the secret "
                                 "either way."),
            "conversation_retention_days": _("Leave empty to keep conversations until deleted."),
            "file_retention_days": _("Leave empty to keep files until deleted."),
            "monthly_token_quota": _("Leave empty for no quota."),
            "user_monthly_token_quota": _("Leave empty for no per-person quota."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["redaction_terms"] = "\n".join(self.instance.redaction_terms or [])

    def clean_redaction_terms(self) -> list[str]:
        from compliance.services import clean_terms

        return clean_terms(self.cleaned_data["redaction_terms"])


class AuditFilterForm(forms.Form):
    user = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=[("", _("Any status")), ("ok", _("OK")),
                                                        ("stopped", _("Stopped")),
                                                        ("error", _("Error"))])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("Anyone"))] + [(u.pk, u.email) for u in users]
