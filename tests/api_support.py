"""Helpers shared by the API tests (the people they use are fixtures in tests/conftest.py)."""

from rest_framework.test import APIClient


def as_user(api: APIClient, user) -> APIClient:
    api.force_authenticate(user)
    return api


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def ordered_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def error_of(response, status: int) -> dict:
    """The single error shape of every 4xx answer."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]
