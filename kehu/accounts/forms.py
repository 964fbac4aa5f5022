import django_filters
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from kehu.core.filters import PlainFilterSet
from kehu.core.forms import BootstrapMixin, PlainModelForm

from .models import Department, Role, User
from .rights import right_choices


class LoginForm(BootstrapMixin, AuthenticationForm):
    pass


class KehuPasswordChangeForm(BootstrapMixin, PasswordChangeForm):
    pass


class UserForm(PlainModelForm):
    password = forms.CharField(
        label=_("Initial password"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Required for a new user, who must change it at first login."),
    )

    class Meta:
        model = User
        fields = ["username", "full_name", "email", "phone", "department", "roles", "is_active", "language",
                  "time_zone"]
        widgets = {"roles": forms.CheckboxSelectMultiple}

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if not self.instance.pk and not password:
            raise forms.ValidationError(_("Give the new user an initial password."))
        if password:
            password_validation.validate_password(password, self.instance)
        return password

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
            user.must_change_password = True
        if commit:
            user.save()
            self.save_m2m()
        return user


class UserFilterSet(PlainFilterSet):
    search_fields = ["username", "full_name", "email", "phone"]
    # `id IN (users with these roles)`, not a join + DISTINCT that PostgreSQL sorts
    roles = django_filters.ModelMultipleChoiceFilter(queryset=Role.objects.all(), method="filter_roles",
                                                     label=_("Roles"))

    class Meta:
        model = User
        fields = ["department", "roles", "is_active"]

    def filter_roles(self, queryset, name, value):
        if not value:
            return queryset
        holders = User.roles.through.objects.filter(role__in=value).values("user_id")
        return queryset.filter(pk__in=holders)


class RoleForm(PlainModelForm):
    rights = forms.MultipleChoiceField(label=_("Rights"), required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Role
        fields = ["code", "name", "name_en", "description", "data_scope", "rights"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rights"].choices = [("*", _("Everything (administrator)"))] + right_choices()


class RoleFilterSet(PlainFilterSet):
    search_fields = ["code", "name", "name_en"]

    class Meta:
        model = Role
        fields = ["data_scope"]


class DepartmentForm(PlainModelForm):
    class Meta:
        model = Department
        fields = ["name", "parent", "manager", "order"]


class DepartmentFilterSet(PlainFilterSet):
    search_fields = ["name"]

    class Meta:
        model = Department
        fields = ["parent"]
