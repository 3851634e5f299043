from django import forms
from django.contrib.auth.forms import UserCreationForm

from tracker.models import User


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(required=True, help_text="For review notifications and password resets.")

    class Meta:
        model = User
        fields = ("username", "email", "first_name", "last_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail address already exists.")
        return email


class ImportForm(forms.Form):
    file = forms.FileField(help_text="The seed's Markdown format (.md, .txt) or Moodle's competency CSV (.csv).")
