"""A row id in a page's path beyond any stored id's range is a 422 naming the parameter,
never a database overflow (a 500 on SQLite, an out-of-range error on PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/cases/{HUGE}",
        f"/meetings/{HUGE}",
        f"/projects/{HUGE}",
        f"/data/jobs/{HUGE}",
        "/cases/2147483648",
        "/projects/0",
    ],
)
def test_absurd_ids_are_form_errors(admin: TestClient, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 422, (path, response.status_code)


def test_an_id_in_range_that_is_not_stored_is_named(admin: TestClient) -> None:
    response = admin.get("/cases/2147483647")
    assert response.status_code == 422 and "2147483647" in response.text
