from django import forms
from django.contrib.auth.forms import UserCreationForm

from tracker.models import User


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(required=True, help_text="For review notifications and password resets.")

    class Meta:
        model = User
        fields = ("username", "email", "first_name", "last_name")

    def clean_email(self) -> str:
        # A taken address is no error here: the sign-up answers the same and mails the address's owner instead.
        return self.cleaned_data["email"].strip().lower()


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, required=False, help_text="What it is for, e.g. “Colab”. Left empty, it is named by date."
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text=(
            "The seed's Markdown format (.md, .txt), a Moodle competency-framework CSV (.csv) "
            "or a CASE 1.1 package (.json)."
        )
    )
