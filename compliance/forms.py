from django import forms
from django.utils.translation import gettext_lazy

from compliance.entities import SUPPORTED_ENTITIES
from compliance.models import DataControls


class DataControlsForm(forms.ModelForm):
    redaction_entities = forms.MultipleChoiceField(
        choices=[(entity, gettext_lazy(label)) for entity, label in SUPPORTED_ENTITIES.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple, label="Kinds of data to redact")
    redaction_terms = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}),
        label="Terms to always redact",
        help_text="One per line: names of people, customers, projects. Matched as whole "
        "words, ignoring case.")

    class Meta:
        model = DataControls
        fields = ["redaction_enabled", "redaction_entities", "redaction_terms",
                  "conversation_retention_days", "file_retention_days",
                  "monthly_token_quota", "user_monthly_token_quota"]
        labels = {
            "redaction_enabled": "Redact personal data before it is sent to the model",
            "conversation_retention_days": "Delete conversations after (days without use)",
            "file_retention_days": "Delete library files after (days)",
            "monthly_token_quota": "Monthly token quota for the workspace",
            "user_monthly_token_quota": "Monthly token quota per person",
        }
        help_texts = {
            "conversation_retention_days": "Leave empty to keep conversations until deleted.",
            "file_retention_days": "Leave empty to keep files until deleted.",
            "monthly_token_quota": "Leave empty for no quota.",
            "user_monthly_token_quota": "Leave empty for no per-person quota.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["redaction_terms"] = "\n".join(self.instance.redaction_terms or [])

    def clean_redaction_terms(self) -> list[str]:
        from compliance.services import clean_terms

        return clean_terms(self.cleaned_data["redaction_terms"])


class AuditFilterForm(forms.Form):
    user = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), ("ok", "OK"),
                                                        ("stopped", "Stopped"),
                                                        ("error", "Error")])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Anyone")] + [(u.pk, u.email) for u in users]
