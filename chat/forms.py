from django import forms
from django.utils.translation import gettext_lazy as _

from chat.models import BotConfig, Prompt


class MessageForm(forms.Form):
    text = forms.CharField(strip=True, required=False)


# WCAG 2.x AA for text: the accent colour is the background of white text
# (buttons, the person's own messages), so it must contrast with white.
MIN_CONTRAST = 4.5


def contrast_with_white(colour: str) -> float | None:
    """WCAG contrast ratio of white on `colour` (#rrggbb); None if not a colour."""
    if len(colour) != 7 or not colour.startswith("#"):
        return None
    try:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    except ValueError:
        return None
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


class PromptForm(forms.ModelForm):
    class Meta:
        model = Prompt
        fields = ["title", "text"]
        labels = {"title": _("Title"), "text": _("Prompt")}
        help_texts = {
            "title": _("Short: shown on a new chat and in the list that / opens."),
            "text": _("What is put in the message box; the employee can change it "
                      "before sending."),
        }
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}


class BotConfigForm(forms.ModelForm):
    # What "Test connection" tries before anything is saved.
    CONNECTION_FIELDS = ("model", "base_url", "organization", "project", "api_key",
                         "clear_api_key")
    suggested_prompts_text = forms.CharField(
        label=_("Suggested prompts"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, up to 4."),
    )
    api_key = forms.CharField(
        label=_("API key"), required=False, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the current key. Stored encrypted; never shown again."),
    )
    base_url = forms.URLField(
        label=_("Base URL (Azure or any OpenAI-compatible)"), required=False, max_length=500,
        assume_scheme="https",
        help_text=_("Leave empty for the platform's endpoint. A base URL of your own needs "
                    "your own API key, must use https and must be reachable on the public "
                    "internet."),
    )
    clear_api_key = forms.BooleanField(
        label=_("Remove the stored key (use the platform key)"), required=False
    )

    class Meta:
        model = BotConfig
        fields = ["name", "accent_color", "welcome_message", "system_instructions", "model",
                  "temperature", "max_output_tokens", "history_messages", "base_url",
                  "organization", "project"]
        widgets = {
            "accent_color": forms.TextInput(attrs={"type": "color"}),
            "welcome_message": forms.Textarea(attrs={"rows": 2}),
            "system_instructions": forms.Textarea(attrs={"rows": 6}),
        }
        labels = {"model": _("Model id"), "organization": _("Organization id"),
                  "project": _("Project id")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suggested_prompts_text"].initial = "\n".join(
            self.instance.suggested_prompts or [])
        self.fields["model"].help_text = (
            _("Any model id your endpoint serves, including fine-tuned ones "
              "(ft:gpt-4o-mini:...)."))

    def clean_suggested_prompts_text(self):
        lines = [line.strip() for line in self.cleaned_data["suggested_prompts_text"].splitlines()]
        prompts = [line for line in lines if line]
        if len(prompts) > 4:
            raise forms.ValidationError(_("Up to 4 suggested prompts."))
        if any(len(p) > 200 for p in prompts):
            raise forms.ValidationError(_("Keep each suggested prompt under 200 characters."))
        return prompts

    def clean_accent_color(self):
        colour = self.cleaned_data["accent_color"]
        ratio = contrast_with_white(colour)
        if ratio is not None and ratio < MIN_CONTRAST:
            raise forms.ValidationError(
                _("White text on this colour is hard to read (contrast %(ratio)s:1; buttons "
                  "and your people's messages need at least 4.5:1). Pick a darker shade."),
                params={"ratio": f"{ratio:.1f}"})
        return colour

    def clean_api_key(self):
        key = self.cleaned_data["api_key"]
        if key and (len(key) < 8 or any(c.isspace() for c in key)):
            raise forms.ValidationError(_("That does not look like an API key."))
        return key

    def clean_model(self):
        model = self.cleaned_data["model"].strip()
        if not model or any(c.isspace() for c in model):
            raise forms.ValidationError(_("Enter a model id without spaces, e.g. gpt-4o-mini."))
        return model



class FeedbackFilterForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any rating")), ("1", _("Good answer")), ("-1", _("Bad answer"))])
    user = forms.TypedChoiceField(label=_("Who"), required=False, coerce=int, empty_value=None)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("Anyone"))] + [(u.pk, u.email) for u in users]
