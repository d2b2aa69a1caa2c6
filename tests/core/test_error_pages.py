import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_for_errors")]


@pytest.fixture
def signed_in():
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())
    return client


def test_404_page_is_styled_and_does_not_say_whether_the_record_exists(signed_in):
    response = signed_in.get("/nowhere/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in html and "accord.css" in html


def test_403_page(signed_in):
    response = signed_in.get("/forbidden/")

    assert response.status_code == 403
    assert "This page is not for your role" in response.content.decode()


def test_500_page_renders_without_context(signed_in):
    response = signed_in.get("/boom/")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_api_500_is_json(signed_in):
    response = signed_in.get("/api/v1/boom")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def test_error_pages_in_vietnamese(signed_in):
    signed_in.cookies["django_language"] = "vi"

    response = signed_in.get("/nowhere/")

    assert "Không có gì ở đây" in response.content.decode()
