"""Filters the API's lists share."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

TRUE_OR_FALSE = {"true": True, "false": False}


class TrueOrFalseField(forms.Field):
    """`true` or `false`; empty means "not filtered". Anything else is an error, not silently "not filtered"
    (django-filter's own boolean filter ignores `?unread=yes`, and the caller gets every row)."""

    default_error_messages = {"invalid": _("Enter true or false.")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        if value not in TRUE_OR_FALSE:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return TRUE_OR_FALSE[value]


class TrueOrFalseFilter(django_filters.BooleanFilter):
    """A yes/no filter of the API: `?unread=true`, `?unread=false`; any other value is a 400 naming the parameter."""

    field_class = TrueOrFalseField
