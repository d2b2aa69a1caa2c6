"""The contracts API: /api/v1/contracts with its stage transitions, renewal, negotiation rounds, phases and costs,
the pipeline summary, and /api/v1/phases."""

from contracts.api.contracts import ContractViewSet
from contracts.api.delivery import PhaseViewSet

__all__ = ["ContractViewSet", "PhaseViewSet"]
