from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehu.core.registry import RecordType, registry

from . import forms
from .models import Department, Role, User


@registry.register
class UserType(RecordType):
    model = User
    url_prefix = "admin/users"
    form = forms.UserForm
    filterset = forms.UserFilterSet
    list_columns = ["username", "full_name", "department", "email", "phone", "is_active", "last_login"]
    list_select_related = ["department"]
    list_prefetch = ["roles"]
    sort_fields = ["id", "username"]
    default_sort = "username"
    detail_fields = ["username", "full_name", "email", "phone", "department", "is_active", "language",
                     "time_zone", "last_login", "date_joined", "must_change_password"]
    detail_template = "accounts/user_detail.html"
    api_exclude = ["password", "user_permissions", "groups", "is_staff", "first_name", "last_name"]
    nav_icon = "ti-users"
    nav_section, nav_order = "admin", 10

    def check_delete(self, obj):
        raise ValidationError(_("Users are not deleted: deactivate the account and transfer its records."))


@registry.register
class RoleType(RecordType):
    model = Role
    url_prefix = "admin/roles"
    form = forms.RoleForm
    filterset = forms.RoleFilterSet
    list_columns = ["name", "name_en", "code", "data_scope", "builtin"]
    sort_fields = ["id"]
    default_sort = "id"
    nav_icon = "ti-shield-lock"
    nav_section, nav_order = "admin", 30
    api_exclude = ["defaults_applied"]

    def check_delete(self, obj):
        if obj.builtin:
            raise ValidationError(_("Built-in roles cannot be deleted."))
        if obj.users.exists():
            raise ValidationError(_("The role is still given to users."))


@registry.register
class DepartmentType(RecordType):
    model = Department
    url_prefix = "admin/departments"
    form = forms.DepartmentForm
    filterset = forms.DepartmentFilterSet
    list_columns = ["name", "parent", "manager", "order"]
    list_select_related = ["parent", "manager"]
    sort_fields = ["id"]
    default_sort = "id"
    nav_icon = "ti-building"
    nav_section, nav_order = "admin", 20

    def check_delete(self, obj):
        if obj.children.exists() or obj.members.exists():
            raise ValidationError(_("Move the department's members and sub-departments first."))
