"""`make sandbox` for sam local: the env file it writes, with the resources on a moto server,
is enough for a handler to run against the sandbox tenants (Docker cannot run here, so the
handler runs in this process with exactly the environment sam local would give it)."""

import json
import os
from pathlib import Path

import pytest

from okta_auth0_sync.base import container
from okta_auth0_sync_testbed.deployment import FakeContext, LocalDeployment
from okta_auth0_sync_testbed.sam_local import prepare


@pytest.fixture
def local_env(tmp_path):
    sb, moto, env, path = prepare(moto_port=0, out_dir=tmp_path)
    yield sb, env, path
    moto.stop()
    sb.stop()


def test_env_file_points_functions_at_moto_and_the_tenants(local_env, monkeypatch):
    _, env, path = local_env
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    written = json.loads(path.read_text())["Parameters"]
    assert written == env
    assert written["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert written["AUTH0_SECRET_ID"].startswith("arn:aws:secretsmanager:")
    assert "client_secret" not in path.read_text() and "PRIVATE KEY" not in path.read_text()
    for key, value in written.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    container.new_container()
    stack = LocalDeployment(endpoint_url=written["AWS_ENDPOINT_URL"])  # only to import the handlers
    handler = stack.handler("LookupUsersFunction")
    event = json.loads(Path("events/lookup_users.json").read_text())
    result = handler(event, FakeContext("LookupUsersFunction", 30, 512, "us-east-1", "123456789012"))
    assert result["okta_user"]["email"] == "grace.hopper+ops@acme.example"
    assert [u["user_id"] for u in result["auth0_users"]] == ["auth0|c7d4c9e39de14f953e9cd582"]
    assert os.environ["AWS_ENDPOINT_URL"] == written["AWS_ENDPOINT_URL"]
    container.new_container()
