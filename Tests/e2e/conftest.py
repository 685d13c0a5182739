"""Shared fixtures for the end-to-end tests: they talk to a running stack through its edge."""
import os
import uuid

import pytest
import requests

BASE_URL = os.environ.get("VOICEFLOW_BASE_URL", "http://127.0.0.1:8080")


class Api:
    """A thin JSON client for the edge."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def request(self, method, path, json=None, token=None, headers=None, data=None, timeout=30):
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.base_url + path, json=json, data=data, headers=all_headers, timeout=timeout
        )

    def register(self, prefix="e2e"):
        suffix = uuid.uuid4().hex[:10]
        credentials = {
            "username": f"{prefix}_{suffix}"[:20],
            "email": f"{prefix}.{suffix}@example.com",
            "password": f"correct horse {suffix}",
        }
        response = self.request(
            "POST",
            "/api/v1/auth/register",
            json={**credentials, "confirmPassword": credentials["password"]},
        )
        assert response.status_code == 201, response.text
        return credentials, response.json()


@pytest.fixture
def api():
    return Api(BASE_URL)


def assert_error(response, status, code=None):
    """Every error is the status plus {"code", "message"}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return body
