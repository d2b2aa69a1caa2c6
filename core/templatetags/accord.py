from django import forms, template

from core.money import format_money

register = template.Library()


@register.filter
def money(amount, currency):
    """{{ contract.value|money:contract.currency }} → '12,500,000 ₫'."""
    if amount is None or amount == "":
        return ""
    return format_money(amount, currency)


@register.filter
def web_url(url: str) -> str:
    """The address if it is an http(s) web address, else "": a stored ``javascript:`` or ``data:`` URL (imported,
    or from before validation) is never put in an href."""
    text = str(url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else ""


@register.simple_tag
def bootstrap_field(bound_field: forms.BoundField, **attrs) -> str:
    """The widget with Bootstrap's classes, marked invalid when the field has errors."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    attrs["class"] = f"{css} {attrs.get('class', '')}".strip()
    if bound_field.errors:
        attrs["aria-describedby"] = f"{bound_field.auto_id}_errors"
    return bound_field.as_widget(attrs=attrs)
