import re

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_openapi_schema_describes_the_api(client):
    client.force_login(UserFactory())

    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    schema = response.json()
    assert schema["info"]["title"] == "Accord API"
    assert {"/api/v1/me", "/api/v1/users", "/api/v1/notifications", "/api/v1/notifications/{id}/read"} <= set(
        schema["paths"]
    )
    assert "Error" in schema["components"]["schemas"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_from_this_server_only(client):
    client.force_login(UserFactory())

    html = client.get("/api/docs/").content.decode()

    assert "swagger-ui" in html
    external = [url for url in re.findall(r'(?:src|href)="([^"]+)"', html) if url.startswith(("http:", "https:", "//"))]
    assert external == []


def test_the_schema_validates_without_a_warning(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def test_a_page_size_that_is_not_a_whole_number_is_refused(api):
    api.force_authenticate(UserFactory())

    response = api.get("/api/v1/notifications", {"page_size": "null"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"page_size": ["Enter a whole number of at least 1."]}
