"""The clients API: serializers and viewsets for /api/v1/clients, contacts, partners, partner-relationships,
activities, requests and handovers."""

from clients.api.clients import ClientViewSet
from clients.api.contacts import ContactViewSet
from clients.api.partners import PartnerRelationshipViewSet, PartnerViewSet
from clients.api.requests import HandoverViewSet, RequestViewSet
from clients.api.timeline import ActivityViewSet

__all__ = [
    "ActivityViewSet",
    "ClientViewSet",
    "ContactViewSet",
    "HandoverViewSet",
    "PartnerRelationshipViewSet",
    "PartnerViewSet",
    "RequestViewSet",
]
