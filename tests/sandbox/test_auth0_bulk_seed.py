"""The provisioning bench seeds its role members in bulk (the tenant's fixture, loaded in seconds
for 100,000): what the package then reads through the Management API must be what it would read
had an operator assigned the same users to the role through the API.

Two sandbox Auth0 tenants with the same users: one seeded by ``bench.provisioning.fixture``, the
other with the role empty, filled with ``POST /api/v2/roles/{id}/users`` (100 a call). Both serve
the same ``GET /api/v2/roles/{id}/users`` pages, checkpoint (what the package reads) and offset,
and the same user objects for the package's batched profile read.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from bench.provisioning import ROLE, fixture
from okta_auth0_sync_sandbox.auth0 import Auth0Tenant
from okta_auth0_sync_sandbox.auth0.tenant import MANAGEMENT_SCOPES
from tests.sandbox.support import management_session

MEMBERS = 250  # three checkpoint pages of 100


@pytest.fixture(scope="module")
def tenants() -> Iterator[dict[str, Any]]:
    seeded = fixture(MEMBERS)["auth0"]
    empty = copy.deepcopy(seeded)
    role = next(r for r in empty["roles"] if r["id"] == ROLE)
    ids, role["members"] = role["members"], []
    bulk, by_api = Auth0Tenant(seeded), Auth0Tenant(empty)
    try:
        sessions = {
            name: management_session(SimpleNamespace(auth0=tenant), "bench-seed-check", tuple(MANAGEMENT_SCOPES))
            for name, tenant in (("bulk", bulk), ("api", by_api))
        }
        api = sessions["api"]
        for start in range(0, len(ids), 100):
            response = api.post(f"{api.base}/roles/{ROLE}/users", json={"users": ids[start : start + 100]}, timeout=10)
            assert response.status_code == 200, response.text
        yield {"sessions": sessions, "ids": ids}
    finally:
        bulk.stop()
        by_api.stop()


def checkpoint_pages(session: Any) -> list[dict[str, Any]]:
    pages, params = [], {"take": 100}
    while True:
        response = session.get(f"{session.base}/roles/{ROLE}/users", params=params, timeout=10)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if "next" not in pages[-1]:
            return pages
        params = {"take": 100, "from": pages[-1]["next"]}


def test_bulk_seeded_role_pages_are_the_api_assigned_ones(tenants: dict[str, Any]) -> None:
    bulk, api = checkpoint_pages(tenants["sessions"]["bulk"]), checkpoint_pages(tenants["sessions"]["api"])
    assert bulk == api
    assert [len(page["users"]) for page in bulk] == [100, 100, 50]
    listed = [user["user_id"] for page in bulk for user in page["users"]]
    assert listed == sorted(tenants["ids"])  # every member once, in the API's order
    assert all(user["email"] and user["name"] and "picture" in user for page in bulk for user in page["users"])


def test_checkpoint_pages_match_offset_pages(tenants: dict[str, Any]) -> None:
    session = tenants["sessions"]["bulk"]
    offset = []
    for page in range(3):
        response = session.get(f"{session.base}/roles/{ROLE}/users", params={"per_page": 100, "page": page}, timeout=10)
        offset += response.json()
    checkpoint = [user for page in checkpoint_pages(session) for user in page["users"]]
    assert checkpoint == offset


def test_bulk_seeded_profiles_are_the_api_assigned_ones(tenants: dict[str, Any]) -> None:
    """The worker's batched profile read (a ``user_id`` search) finds the same users; only the
    creation times differ (each tenant stamped its own load)."""
    batch = tenants["ids"][:40]
    query = "user_id:(" + " OR ".join(f'"{uid}"' for uid in batch) + ")"
    found = {}
    for name, session in tenants["sessions"].items():
        response = session.get(
            f"{session.base}/users", params={"q": query, "search_engine": "v3", "per_page": 50}, timeout=10
        )
        assert response.status_code == 200, response.text
        found[name] = [{k: v for k, v in u.items() if k not in ("created_at", "updated_at")} for u in response.json()]
    assert found["bulk"] == found["api"]
    assert sorted(u["user_id"] for u in found["bulk"]) == sorted(batch)
    assert all(u["email_verified"] and u["given_name"] == "Bench" for u in found["bulk"])
