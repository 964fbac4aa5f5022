"""Administrative record types of the core: the data dictionary and custom fields."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import registries
from .filters import PlainFilterSet
from .forms import PlainModelForm
from .models import CustomField, DictItem
from .registry import RecordType, registry


class DictItemForm(PlainModelForm):
    # the lists the apps declare (kehu.core.registries.dictionary_kind)
    kind = forms.ChoiceField(label=_("List"), choices=registries.dictionary_kind_choices)

    class Meta:
        model = DictItem
        fields = ["kind", "code", "label", "label_en", "order", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.builtin:
            # Code relies on built-in codes: they keep their list and code.
            self.fields["kind"].disabled = True
            self.fields["code"].disabled = True


class DictItemFilterSet(PlainFilterSet):
    search_fields = ["code", "label", "label_en"]

    class Meta:
        model = DictItem
        fields = ["kind", "active"]


@registry.register
class DictItemType(RecordType):
    model = DictItem
    key = "dictitem"
    url_prefix = "admin/dictionary"
    form = DictItemForm
    filterset = DictItemFilterSet
    list_columns = ["label", "label_en", "kind", "code", "order", "active", "builtin"]
    sort_fields = ["id"]
    default_sort = "id"
    nav_icon = "ti-list-details"
    nav_section, nav_order = "admin", 50

    def check_delete(self, obj):
        if obj.builtin:
            raise ValidationError(_("“%(obj)s” is built in: deactivate it instead of deleting it.") % {"obj": obj})


class CustomFieldForm(PlainModelForm):
    record_type = forms.ChoiceField(label=_("Record type"))
    choices_text = forms.CharField(
        label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For choice fields: one value per line."),
    )

    class Meta:
        model = CustomField
        fields = ["record_type", "name", "label", "label_en", "field_type", "required", "order", "show_in_list",
                  "help_text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [
            (rt.record_type_name, rt.label) for rt in registry.all() if rt.is_kehu_model
        ]
        self.fields["choices_text"].widget.attrs["class"] = "form-control"
        if self.instance.pk:
            self.initial.setdefault("choices_text", "\n".join(str(c) for c in self.instance.choices or []))

    def clean_name(self):
        name = self.cleaned_data["name"].replace("-", "_")
        if not name.isidentifier():
            raise ValidationError(_("Use letters, digits and underscores, starting with a letter."))
        return name

    def clean(self):
        data = super().clean()
        lines = [line.strip() for line in (data.get("choices_text") or "").splitlines() if line.strip()]
        if data.get("field_type") in (CustomField.Type.CHOICE, CustomField.Type.MULTICHOICE) and not lines:
            self.add_error("choices_text", _("A choice field needs at least one choice."))
        self.instance.choices = lines
        return data


class CustomFieldFilterSet(PlainFilterSet):
    search_fields = ["name", "label", "label_en"]

    class Meta:
        model = CustomField
        fields = ["record_type", "field_type"]


@registry.register
class CustomFieldType(RecordType):
    model = CustomField
    key = "customfield"
    url_prefix = "admin/custom-fields"
    form = CustomFieldForm
    filterset = CustomFieldFilterSet
    list_columns = ["label", "label_en", "name", "record_type", "field_type", "required", "show_in_list"]
    sort_fields = ["id"]
    default_sort = "id"
    nav_icon = "ti-forms"
    nav_section, nav_order = "admin", 60
