"""JSON input is taken at the type the API's schema gives it.

DRF's fields are forgiving: a string field takes the number 0 (and stores "0"), a boolean field takes 1, "yes" or
"on", a decimal field takes the JSON number 12.5. The schema promises a string, `true`/`false` and a decimal
*string*, and a caller that sends another type has a bug to hear about (a float loses a money amount's cents), so
the API answers the usual 400 naming the field. Query strings are text: a serializer reading
``request.query_params`` (a QueryDict) keeps DRF's reading of "true" and "1".

Installed once, from ``CoreConfig.ready``, on DRF's field classes, so every serializer and every subclass
(EmailField, URLField, RegexField, ...) follows it.
"""

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import fields, serializers
from rest_framework.settings import api_settings

DECIMAL_AS_STRING = _('Send a decimal number as a string, e.g. "1500000.00".')


def _reads_a_query_string(field: fields.Field) -> bool:
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


def _strict_char(to_internal_value):
    def strict(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return to_internal_value(self, data)

    return strict


def _strict_boolean(to_internal_value):
    def strict(self, data):
        if not isinstance(data, bool) and not _reads_a_query_string(self):
            self.fail("invalid", input=data)
        return to_internal_value(self, data)

    return strict


def _strict_decimal(to_internal_value):
    def strict(self, data):
        as_string = getattr(self, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        if as_string and isinstance(data, int | float):  # bool is an int too
            raise serializers.ValidationError(DECIMAL_AS_STRING, code="invalid")
        return to_internal_value(self, data)

    return strict


def hold_json_input_to_schema_types() -> None:
    """Make DRF's string, boolean and decimal fields refuse JSON values of another type (once per process)."""
    if getattr(fields.CharField.to_internal_value, "strict_json_input", False):
        return
    for field_class, strict in (
        (fields.CharField, _strict_char),
        (fields.BooleanField, _strict_boolean),
        (fields.DecimalField, _strict_decimal),
    ):
        field_class.to_internal_value = strict(field_class.to_internal_value)
        field_class.to_internal_value.strict_json_input = True
