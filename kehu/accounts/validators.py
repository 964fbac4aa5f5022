import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least one letter, one digit and one special character (SPEC: password policy)."""

    def validate(self, password, user=None):
        missing = []
        if not re.search(r"[A-Za-z]", password):
            missing.append(_("a letter"))
        if not re.search(r"\d", password):
            missing.append(_("a digit"))
        if not re.search(r"[^A-Za-z0-9]", password):
            missing.append(_("a special character such as ! @ # $"))
        if missing:
            raise ValidationError(
                _("The password must contain %(missing)s.") % {"missing": _(", ").join(missing)},
                code="password_character_classes",
            )

    def get_help_text(self):
        return _("Your password must contain letters, digits and special characters.")
