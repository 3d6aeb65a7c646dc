from django import forms

from tenants.members.models import User


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.MEMBER)
