from django import template

from clients.links import links_for

register = template.Library()


@register.simple_tag(takes_context=True)
def client_links(context, client) -> list[dict]:
    """{% client_links client as links %}: the other apps' links for this client and the signed-in user."""
    return links_for(context["request"].user, client)
