"""The signature check printed in the API guide verifies a real delivery, and refuses a forged or stale one."""

import re
import time
from pathlib import Path

import pytest
from django.db import transaction

from integrations import services
from integrations.delivery import attempt_delivery
from integrations.models import WebhookDelivery
from tests.factories import ClientFactory

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
MARKER = "<!-- webhook-verify-example"


def documented_example() -> str:
    """The Python block right after the marker in the API guide's "Webhooks" section."""
    after = GUIDE.read_text().split(MARKER, 1)[1]
    return re.search(r"```python\n(.*?)```", after, re.DOTALL).group(1)


def test_the_documented_check_verifies_a_real_delivery(receiver, allow_private):
    namespace: dict = {}
    exec(compile(documented_example(), "docs example", "exec"), namespace)  # noqa: S102 - our own documentation
    verify_accord_signature = namespace["verify_accord_signature"]
    endpoint = make_endpoint(url=receiver.url)
    with transaction.atomic():
        event = services.emit("client.created", ClientFactory())
    delivery = WebhookDelivery.objects.get(event=event)

    attempt_delivery(delivery_id=delivery.pk, attempts=0)

    [request] = receiver.requests
    header, body = request.headers["Accord-Signature"], request.body
    assert verify_accord_signature(endpoint.secret, header, body)
    assert not verify_accord_signature("whsec_someone-else", header, body)
    assert not verify_accord_signature(endpoint.secret, header, body.replace(b"client.created", b"client.updated"))
    stale = re.sub(r"t=\d+", f"t={int(time.time()) - 600}", header)
    assert not verify_accord_signature(endpoint.secret, stale, body)
