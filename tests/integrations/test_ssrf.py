"""SSRF: a webhook goes to public http(s) hosts only, checked when the endpoint is saved and before each attempt."""

import socket

import pytest
from django.utils import timezone

from integrations import services
from integrations.delivery import attempt_delivery
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from integrations.network import UnsafeURLError, check_url

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


def resolving_to(monkeypatch, *addresses: str) -> None:
    """Make every host name resolve to ``addresses`` (A and AAAA answers), as a DNS server could."""

    def getaddrinfo(host, port, *args, **kwargs):
        family = lambda address: socket.AF_INET6 if ":" in address else socket.AF_INET  # noqa: E731
        return [(family(address), socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/hook",
        "http://127.0.0.1:8000/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://100.64.0.1/hook",
        "http://2130706433/hook",  # 127.0.0.1 in decimal
        "http://0177.0.0.1/hook",  # and in octal
        "http://[2002:7f00:1::1]/hook",  # 6to4, carrying 127.0.0.1
        "http://[2002:a9fe:a9fe::]/latest/meta-data/",  # 6to4, carrying 169.254.169.254
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url):
    with pytest.raises(UnsafeURLError) as refused:
        check_url(url)
    assert refused.value.code == "unsafe_url"


def test_a_host_name_that_resolves_to_loopback_is_refused(monkeypatch):
    resolving_to(monkeypatch, "127.0.0.1")

    with pytest.raises(UnsafeURLError, match="private or reserved"):
        check_url("https://innocent.example.com/hook")


def test_one_private_answer_among_public_ones_is_enough_to_refuse(monkeypatch):
    resolving_to(monkeypatch, "93.184.215.14", "10.1.2.3")

    with pytest.raises(UnsafeURLError, match=r"10\.1\.2\.3"):
        check_url("https://mixed.example.com/hook")


def test_a_public_host_is_accepted(monkeypatch):
    resolving_to(monkeypatch, "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")

    target = check_url("https://hooks.example.com:8443/accord?x=1")

    assert (target.host, target.port, [str(address) for address in target.addresses]) == (
        "hooks.example.com",
        8443,
        ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    )


def test_an_internationalised_host_is_resolved_and_sent_in_its_ascii_form(monkeypatch):
    asked = []
    resolving_to(monkeypatch, "93.184.215.14")
    resolve = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: asked.append(host) or resolve(host, *args))

    target = check_url("https://bücher.example/hook")

    # The Host header and TLS's SNI are built from target.host: they take ASCII only.
    assert (target.host, asked) == ("xn--bcher-kva.example", ["xn--bcher-kva.example"])


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/x", "file:///etc/passwd", "gopher://x/", "https://user:pw@hooks.example.com/"]
)
def test_other_schemes_and_credentials_are_refused(url):
    with pytest.raises(UnsafeURLError):
        check_url(url)


def test_the_setting_allows_private_addresses(settings):
    settings.ACCORD_WEBHOOKS_ALLOW_PRIVATE = True

    assert str(check_url("http://127.0.0.1:9/hook").addresses[0]) == "127.0.0.1"


def test_registering_a_private_url_is_refused(admin):
    with pytest.raises(UnsafeURLError):
        services.endpoint_create(actor=admin, url="http://169.254.169.254/", events=["client.created"])


def test_a_host_that_turns_private_after_registration_is_not_called(monkeypatch):
    """DNS rebinding: public when saved, loopback when sent. The attempt fails without a request, for good."""
    endpoint = make_endpoint(url="https://rebind.example.com/hook")
    event = WebhookEvent.objects.create(type="ping", created=timezone.now(), data={})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())
    resolving_to(monkeypatch, "127.0.0.1")

    status = attempt_delivery(delivery_id=delivery.pk, attempts=0)

    delivery.refresh_from_db()
    assert status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    assert "private or reserved" in delivery.last_error
    assert delivery.last_status_code is None
