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


# --- Descriptions and examples ------------------------------------------------------------------------------

METHODS = ("get", "post", "put", "patch", "delete")


def generated_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for path, items in schema["paths"].items():
        for method in METHODS:
            if method in items:
                yield f"{method.upper()} {path}", items[method]


def json_bodies(operation: dict):
    """(where, media type object) of the operation's JSON request body and 2xx response bodies."""
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        yield "request", operation["requestBody"]["content"]["application/json"]
    for status, response in operation["responses"].items():
        if str(status).startswith("2") and "application/json" in response.get("content", {}):
            yield status, response["content"]["application/json"]


def as_json_schema(node):
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable` becomes a null alternative, refs point at $defs."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key not in ("nullable", "example")}
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_every_operation_says_what_it_does():
    undescribed = [name for name, operation in operations(generated_schema()) if not operation.get("summary")]

    assert undescribed == []


def test_every_json_body_has_an_example_valid_against_its_schema():
    import jsonschema

    schema = generated_schema()
    definitions = as_json_schema(schema["components"]["schemas"])
    missing, invalid = [], []
    for name, operation in operations(schema):
        for where, media in json_bodies(operation):
            examples = [example["value"] for example in media.get("examples", {}).values()]
            if "example" in media:
                examples.append(media["example"])
            if not examples:
                missing.append(f"{name} {where}")
            validator = jsonschema.Draft202012Validator(
                {**as_json_schema(media["schema"]), "$defs": definitions},
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
            errors = [error for example in examples for error in validator.iter_errors(example)]
            invalid += [f"{name} {where}: {error.message}" for error in errors]

    assert missing == []
    assert invalid == []
