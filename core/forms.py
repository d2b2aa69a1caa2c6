from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from core.errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError | ValidationError) -> None:
    """Show a service's refusal on the form: field errors where it names the form's fields, otherwise at the top."""
    if isinstance(error, ValidationError):
        if not hasattr(error, "error_dict"):
            form.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            for message in messages:
                form.add_error(target, message)
        return
    matched = False
    for field, messages in error.fields.items():
        if field in form.fields:
            for message in messages or [error.message]:
                form.add_error(field, message)
            matched = True
    if not matched:
        form.add_error(None, error.message)
