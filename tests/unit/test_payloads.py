"""The typed payloads at the boundaries (``okta_auth0_sync.domain.payloads`` and the domain values
that travel): what one side writes the other side reads back unchanged, each sample in ``events/``
reads as its handler's input, and what the state machines select or pass is there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.events import LifecycleEvent
from okta_auth0_sync.domain.payloads.deactivation import DeactivationSyncInput, MetadataUpdateRequest
from okta_auth0_sync.domain.payloads.invoke import AuthorizerPolicy, AuthorizerRequest
from okta_auth0_sync.domain.payloads.lookup import LookupRequest
from okta_auth0_sync.domain.payloads.provisioning.batch import (
    Batch,
    BatchFailure,
    BatchInput,
    WorkerInput,
    WorkerResult,
)
from okta_auth0_sync.domain.payloads.provisioning.members import Listing, ListMembersInput, ListMembersResult
from okta_auth0_sync.domain.payloads.provisioning.report import ReportInput
from okta_auth0_sync.domain.payloads.provisioning.runs import FanOutInput
from okta_auth0_sync.domain.payloads.tokens import TokenRequest
from okta_auth0_sync.domain.provisioning import ProvisioningRequest, RoleGroupMapping, RunOptions

ROOT = Path(__file__).resolve().parents[2]
OKTA_USER_ID = "00uieg27N0mAaWp92N5J"
EVENT = LifecycleEvent(
    "ab62c0bc-2837-11eb-9823-9fb8f750c5a9",
    "user.lifecycle.deactivate",
    "2024-05-02T09:14:01.862Z",
    OKTA_USER_ID,
    "grace.hopper+ops@acme.example",
)
RUN = RunOptions(RoleGroupMapping("rol_rRVnAbarjZsuC2Xn", "00gU18bXbD9XEKxR56aB"), "exec-1", dry_run=True)


def sample(name: str) -> dict:
    return json.loads((ROOT / "events" / name).read_text())


def asl(machine: str) -> dict:
    """Every state of a machine by name, those inside Parallel branches and Map processors too."""

    def flatten(states: dict) -> dict:
        out = dict(states)
        for state in states.values():
            for inner in [*state.get("Branches", []), state.get("ItemProcessor") or {}]:
                out.update(flatten(inner.get("States", {})))
        return out

    return flatten(json.loads((ROOT / "statemachines" / f"{machine}.asl.json").read_text())["States"])


# -------------------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (ids.OKTA_ID, ["00u3m90rxKjGQ0G6L1d6", "aus7gqIzvk6Dnq4hJmNN"], ["", "00u-1", "00u/../x", "a" * 65]),
        (ids.OKTA_GROUP_ID, ["00gU18bXbD9XEKxR56aB"], ["00u1", "00g", "00g-1"]),
        (ids.AUTH0_ROLE_ID, ["rol_rRVnAbarjZsuC2Xn"], ["admins", "rol_", "rol_a b"]),
        (
            ids.EXECUTION_NAME,
            ["ab62c0bc-2837-11eb", "api-1.2_3-x", "x" * 80],
            ["", "has space", "a*", "x" * 81, "9999-99-99T99:99:99Z", "a/b", "a#b", "a\n"],
        ),
        (ids.API_EXECUTION_NAME, ["api-0f7c2d1e"], ["a.b", "a:b", ""]),
    ],
)
def test_each_id_pattern(pattern, good, bad):
    assert all(ids.matches(pattern, value) for value in good)
    assert not any(ids.matches(pattern, value) for value in bad)
    assert not ids.matches(pattern, 42) and not ids.matches(pattern, None)


def test_an_okta_user_id_error_names_the_field_it_came_from():
    assert ids.okta_user_id(OKTA_USER_ID, "okta_user_id") == OKTA_USER_ID
    with pytest.raises(InvalidInput, match=r"^oktaUserId must be an Okta user id"):
        ids.okta_user_id("grace@acme.example", "oktaUserId")


# ------------------------------------------------------------------------ the events/ samples


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("mint_token.json", TokenRequest),
        ("lookup_users.json", LookupRequest),
        ("update_metadata.json", MetadataUpdateRequest),
        ("list_role_members.json", ListMembersInput),
        ("provision_members.json", BatchInput),
        ("provisioning_report.json", ReportInput),
        ("start_provisioning_runs.json", FanOutInput),
        ("provisioning_execution.json", ProvisioningRequest),
    ],
)
def test_each_sample_reads_as_its_handlers_input(name, model):
    assert isinstance(model.from_payload(sample(name)), model)


def test_the_deactivation_sample_is_what_the_event_hook_writes():
    assert DeactivationSyncInput.of_event(EVENT).to_payload() == sample("deactivation_sync_execution.json")


def test_the_provisioning_sample_round_trips():
    request = ProvisioningRequest.from_payload(sample("provisioning_execution.json"))
    assert request.dry_run and not request.recheck and request.requested_by is None
    assert ProvisioningRequest.from_payload(request.to_payload()) == request


# ------------------------------------------------------------------------------ deactivation


def test_what_the_metadata_update_reads_after_the_event_hook_started_the_sync():
    """HasEvent? -> SyncAuth0Users passes the execution input's event and ReadOktaUser's user."""
    started = DeactivationSyncInput.of_event(EVENT).to_payload()
    read = {"id": OKTA_USER_ID, "login": EVENT.okta_login, "email": "grace@acme.example", "status": "DEPROVISIONED"}
    parameters = asl("deactivation_sync")["SyncAuth0Users"]["Parameters"]["Payload"]
    assert (parameters["event.$"], parameters["okta_user.$"]) == ("$.event", "$.okta_user")
    request = MetadataUpdateRequest.from_payload({"event": started["event"], "okta_user": read})
    assert request == MetadataUpdateRequest(EVENT, "grace@acme.example")


@pytest.mark.parametrize("state", ["DeactivatedNow", "SuspendedNow", "ActiveNow"])
def test_what_the_metadata_update_reads_after_an_on_demand_sync(state):
    """The invoke API starts with the user alone; EventFromStatus types the event (a Pass state)."""
    started = DeactivationSyncInput.on_demand(OKTA_USER_ID, "0oaOperator").to_payload()
    assert started == {"okta_user": {"id": OKTA_USER_ID}, "requested_by": "0oaOperator"}
    parameters = asl("deactivation_sync")[state]["Parameters"]
    event = {"uuid": "api-0f7c2d1e-1b2c", "type": parameters["type"], "published": "2024-05-02T09:14:05.000Z"}
    okta_user = {"id": OKTA_USER_ID, "login": "grace@acme.example", "email": None, "status": "DEPROVISIONED"}
    request = MetadataUpdateRequest.from_payload({"event": event, "okta_user": okta_user})
    assert (request.event.uuid, request.event.event_type, request.email) == (event["uuid"], parameters["type"], None)


# ------------------------------------------------------------------------------ provisioning


def test_a_provisioning_run_from_the_api_is_what_the_listing_reads():
    request = ProvisioningRequest.from_api_body(
        {"role_id": RUN.mapping.role_id, "group_id": RUN.mapping.group_id, "dry_run": True}, "0oaOperator"
    )
    # ListRoleMembers: {"request.$": "$", "run_id.$": "$$.Execution.Name"}
    assert asl("provisioning")["ListRoleMembers"]["Parameters"]["Payload"] == {
        "request.$": "$",
        "run_id.$": "$$.Execution.Name",
    }
    assert ListMembersInput.from_payload({"request": request.to_payload(), "run_id": "exec-1"}).run == RUN


def test_the_api_body_must_be_an_object():
    with pytest.raises(InvalidInput, match="JSON object"):
        ProvisioningRequest.from_api_body([{"role_id": "rol_a", "group_id": "00ga"}], "0oaOperator")


def test_the_worker_reads_what_the_state_machine_passes_round_after_round():
    # StartWorker: {"request.$": "$", "cursor": {"next": 0, "more": true}}; ProvisionMembers:
    # {"request.$": "$.request", "run_id.$": "$$.Execution.Name", "next.$": "$.cursor.next"}
    payload = asl("provisioning")["ProvisionMembers"]["Parameters"]["Payload"]
    assert payload == {"request.$": "$.request", "run_id.$": "$$.Execution.Name", "next.$": "$.cursor.next"}
    request = {**RUN.to_payload(), "tokens": {"minted": 2}}
    first = WorkerInput.from_payload({"request": request, "run_id": RUN.run_id, "next": 0})
    assert (first.run, first.next_batch, first.failure) == (RUN, 0, None)
    answer = json.loads(json.dumps(WorkerResult(7, True).to_payload()))
    again = WorkerInput.from_payload({"request": request, "run_id": RUN.run_id, "next": answer["next"]})
    assert again.next_batch == 7


def test_an_event_driven_batch_of_one_is_read_as_a_batch():
    item = BatchInput.from_payload({"run": RUN.to_payload(), "batch": Batch(0, ("auth0|a1",)).to_payload()})
    assert (item.run, item.batch.index, item.batch.user_ids, item.failure) == (RUN, 0, ("auth0|a1",), None)


def test_the_report_reads_the_execution_input_and_name():
    listing = Listing(members=10, pending=4, batches=1, managed=3, left_role=2, left_role_sample=("a", "b"))
    result = ListMembersResult(RUN, listing).to_payload()
    assert result["members"]["unchanged"] == 6 and "left_role_sample" not in result["members"]
    # BuildReport: {"request.$": "$", "run_id.$": "$$.Execution.Name", "started_at.$", "tokens_minted.$"}
    request = ReportInput.from_payload(
        {"request": RUN.to_payload(), "run_id": RUN.run_id, "started_at": "2024-05-02T09:00:00Z", "tokens_minted": 3}
    )
    assert request == ReportInput(RUN, "2024-05-02T09:00:00Z", 3)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"run": RUN.to_payload(), "started_at": "yesterday"}, "started_at"),
        ({"run": RUN.to_payload(), "tokens_minted": "many"}, "tokens_minted"),
        ({"request": RUN.to_payload()}, "run_id"),
        ({"request": [1], "run_id": "x"}, "request must be an object"),
    ],
)
def test_a_report_request_is_checked(event, message):
    with pytest.raises(InvalidInput, match=message):
        ReportInput.from_payload(event)


def test_a_caught_batch_failure_reads_the_error_and_the_message_in_its_cause():
    cause = json.dumps({"errorType": "RateLimited", "errorMessage": "okta 429"})
    assert BatchFailure.from_payload({"Error": "RateLimited", "Cause": cause}) == BatchFailure(
        "RateLimited", "okta 429"
    )
    with pytest.raises(InvalidInput, match="failure must be an object"):
        BatchFailure.from_payload("States.Timeout")


def test_the_fan_out_starts_runs_the_listing_reads():
    fan_out = FanOutInput.from_payload(sample("start_provisioning_runs.json"))
    (mapping,) = fan_out.mappings
    execution_input = fan_out.request(mapping).to_payload()
    assert execution_input == {**mapping.to_payload(), "dry_run": True, "recheck": False}
    assert ListMembersInput.from_payload({"request": execution_input, "run_id": "r-1"}).run.dry_run is True


@pytest.mark.parametrize("payload", [[1], "run", 42])
def test_a_handler_input_must_be_an_object(payload):
    for model in (TokenRequest, LookupRequest, MetadataUpdateRequest, ListMembersInput, BatchInput, ReportInput):
        with pytest.raises(InvalidInput):
            model.from_payload(payload)


# -------------------------------------------------------------------------------- invoke API


def test_the_authorizer_reads_its_event_whatever_the_header_case():
    event = sample("api_authorizer.json")
    request = AuthorizerRequest.from_payload(event)
    assert (request.method, request.resource, request.method_arn) == (
        event["httpMethod"],
        event["resource"],
        event["methodArn"],
    )
    lowered = {
        **event,
        "headers": {k.upper(): v for k, v in event["headers"].items()},
        "multiValueHeaders": {k.upper(): v for k, v in (event.get("multiValueHeaders") or {}).items()},
    }
    assert AuthorizerRequest.from_payload(lowered) == request
    with pytest.raises(InvalidInput, match="methodArn"):
        AuthorizerRequest.from_payload({k: v for k, v in event.items() if k != "methodArn"})


def test_the_authorizer_policy_names_this_method_only():
    policy = AuthorizerPolicy("0oaOperator", "Allow", "arn:aws:execute-api:us-east-1:1:api/v1/GET/x", {"a": "b"})
    assert policy.to_payload() == {
        "principalId": "0oaOperator",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:us-east-1:1:api/v1/GET/x",
                }
            ],
        },
        "context": {"a": "b"},
    }
