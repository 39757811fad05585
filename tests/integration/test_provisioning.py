"""Scheduled provisioning end to end: Auth0 role members -> Okta users in a group, through the
real ASL (Distributed Map reading batches from S3) against the sandbox tenants."""

import pytest

from okta_auth0_sync.base import counters

MACHINE = "ProvisioningStateMachine"
PARTNER_ROLE = "rol_rRVnAbarjZsuC2Xn"  # fixture: 6 members (one already in Okta, one without names)
PARTNERS_GROUP = "00gU18bXbD9XEKxR56aB"  # fixture: "Auth0 Partners" (Priya already a member)
ENGINEERING = "00gsKoA3Q3HOtaVxCrDq"
NAMELESS = "auth0|738f1220a6054c911a07d971"  # j.doe@partner.example: no name anywhere
PRIYA_OKTA = "00ue4eScyR1FYOcoldsi"


def provision(stack, role=PARTNER_ROLE, group=PARTNERS_GROUP, **options):
    run = stack.execute(MACHINE, {"role_id": role, "group_id": group, **options}, timeout=600)
    assert run.status == "SUCCEEDED", (run.error, run.cause_message)
    return run.output["report"]


def okta_writes():
    return sum(
        counters.api_calls.total("okta", method=m) for m in ("POST", "PUT", "DELETE")
    ) - counters.api_calls.total("okta", route="/oauth2/v1/token")


@pytest.fixture
def big_role(sb):
    """The Partner role with 250 more members than the fixture (more than two pages of 100)."""
    sb.auth0.bulk_add_users(
        250,
        role_id=PARTNER_ROLE,
        email_template="partner{n}@partner.example",
        user_metadata={"firstName": "Part", "lastName": "Ner"},
    )
    return 256


@pytest.mark.slow
def test_a_role_larger_than_a_page_is_provisioned_completely(sb, stack, big_role):
    # Two of the new members already exist in Okta (created by someone else): added, not duplicated.
    sb.okta.add_user(
        {
            "login": "partner7@partner.example",
            "email": "partner7@partner.example",
            "firstName": "P",
            "lastName": "Seven",
        }
    )
    sb.okta.add_user(
        {
            "login": "PARTNER8@partner.example",
            "email": "partner8@partner.example",
            "firstName": "P",
            "lastName": "Eight",
        }
    )
    report = provision(stack)
    assert report["members"] == big_role
    assert report["counts"] == {"provisioned": 250 + 4 - 2, "existing_added": 3, "failed": 1}
    assert [f["user_id"] for f in report["failed_members"]] == [NAMELESS]
    assert "firstName" in report["failed_members"][0]["reason"]

    members = set(sb.okta.group_member_ids(PARTNERS_GROUP))
    logins = {u["profile"]["login"].lower() for u in sb.okta.users() if u["id"] in members}
    assert {f"partner{n}@partner.example" for n in range(1, 251)} <= logins
    assert len([u for u in sb.okta.users() if u["profile"]["login"].lower() == "partner7@partner.example"]) == 1
    created = sb.okta.get_user("partner1@partner.example")
    assert created["profile"]["auth0_mastered"] == "true"
    assert created["credentials"]["provider"]["type"] == "FEDERATION"
    assert created["status"] == "ACTIVE"
    # Checkpoint paging (take=100): 3 pages; profiles in batched searches, not one call per member.
    assert counters.api_calls.total("auth0", route="/api/v2/roles/{id}/users") == 3
    assert report["api_calls_per_member"]["auth0"] < 0.1
    # One Okta call per new member (create with groupIds), 3 for an existing one (create, GET, PUT).
    assert counters.api_calls.total("okta", method="POST", route="/api/v1/users") == 255
    assert counters.api_calls.total("okta", method="PUT") == 3
    assert report["tokens_minted"] == 2


def test_a_second_run_with_no_change_writes_nothing_to_okta(sb, stack):
    provision(stack)
    counters.api_calls.reset()
    report = provision(stack)
    assert okta_writes() == 0
    assert report["counts"] == {"failed": 1, "unchanged": 5}  # the failed member is retried, and fails again
    assert report["failed_total"] == 1
    assert report["tokens_minted"] == 0  # the shared cache still holds both tokens
    # Reads: the group check; the role's page, the failed member's profile, the blocked users
    # (is a member in the group blocked now?).
    assert counters.api_calls.total("okta") == 1
    assert counters.api_calls.total("auth0") == 3


def test_a_failed_member_is_retried_and_succeeds_once_fixed(sb, stack):
    provision(stack)
    sb.auth0.update_user(NAMELESS, {"user_metadata": {"firstName": "Jo", "lastName": "Doe"}})
    report = provision(stack)
    assert report["counts"] == {"provisioned": 1, "unchanged": 5}
    assert sb.okta.get_user("j.doe@partner.example")["profile"]["firstName"] == "Jo"


def test_an_unverified_email_never_pulls_a_workforce_account_into_the_group(sb, stack):
    """Anyone can sign up to Auth0 with someone else's address: a role member whose email is not
    verified and equals a workforce login is skipped, and the workforce user stays out of the group.
    Once the address is verified, the next run provisions the member."""
    ada = "00uZPx7YubxGT9rKLiKE"  # ada.lovelace@acme.example, workforce
    impostor = sb.auth0.add_user(
        email="ada.lovelace@acme.example",
        email_verified=False,
        user_metadata={"firstName": "Ada", "lastName": "Lovelace"},
    )
    sb.auth0.add_role_members(PARTNER_ROLE, [impostor["user_id"]])
    report = provision(stack)
    assert report["counts"] == {"provisioned": 4, "existing_added": 1, "failed": 1, "unverified_email": 1}
    assert ada not in sb.okta.group_member_ids(PARTNERS_GROUP)
    sb.auth0.update_user(impostor["user_id"], {"email_verified": True})
    assert provision(stack)["counts"] == {"existing_added": 1, "failed": 1, "unchanged": 5}
    assert ada in sb.okta.group_member_ids(PARTNERS_GROUP)


def test_dry_run_writes_nothing_and_reports_what_would_happen(sb, stack):
    users_before = len(sb.okta.users())
    report = provision(stack, dry_run=True)
    assert report["dry_run"] is True
    assert report["counts"] == {"would_create": 4, "would_add_existing": 1, "would_fail": 1}
    assert okta_writes() == 0
    assert len(sb.okta.users()) == users_before
    # Nothing recorded either: the real run afterwards does everything.
    assert provision(stack)["counts"] == {"provisioned": 4, "existing_added": 1, "failed": 1}


@pytest.mark.slow
def test_rate_limit_storm_and_okta_outage_in_the_middle(sb, stack, big_role):
    # Auth0: two 429s in a row (each waits for its reset, 1-2 s), then a tight read bucket (burst 2,
    # 4/s); Okta: 5 creates in a row fail with 503, and a dropped connection on a group PUT.
    sb.auth0.faults.error("/api/v2/*", status=429, times=2)
    sb.auth0.set_rate_limit("users_read", burst=2, rate=4)
    sb.okta.faults.error("/api/v1/users", status=503, method="POST", times=5)
    sb.okta.faults.drop("/api/v1/groups/*", method="PUT", times=1)
    sb.okta.add_user(
        {"login": "partner9@partner.example", "email": "partner9@partner.example", "firstName": "P", "lastName": "Nine"}
    )
    report = provision(stack)
    assert report["counts"] == {"provisioned": 253, "existing_added": 2, "failed": 1}
    assert report["rate_limited_responses"].get("auth0", 0) >= 2
    assert sb.auth0.calls.count(status=429) == report["rate_limited_responses"]["auth0"]
    members = set(sb.okta.group_member_ids(PARTNERS_GROUP))
    assert len(members) == 255
    # No duplicates: every login exists exactly once.
    logins = [u["profile"]["login"].lower() for u in sb.okta.users()]
    assert len(logins) == len(set(logins))


def test_unknown_group_or_role_fails_the_run_clearly(stack):
    run = stack.execute(MACHINE, {"role_id": PARTNER_ROLE, "group_id": "00gDoesNotExist00000"})
    assert run.status == "FAILED" and run.error == "InvalidInput"
    assert "Okta group 00gDoesNotExist00000 does not exist" in run.cause_message
    run = stack.execute(MACHINE, {"role_id": "rol_DoesNotExist0000", "group_id": PARTNERS_GROUP})
    assert run.status == "FAILED" and "Auth0 role rol_DoesNotExist0000 does not exist" in run.cause_message
    run = stack.execute(MACHINE, {"role_id": "../etc", "group_id": PARTNERS_GROUP})
    assert run.status == "FAILED" and run.error == "InvalidInput"


def test_the_schedule_runs_each_mapping_separately_once_per_tick(sb, stack):
    schedule = stack.schedule(MACHINE, "Nightly")
    assert schedule["ScheduleExpression"] == "cron(0 9 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Australia/Brisbane"
    assert schedule["DeadLetterConfig"]["Arn"].startswith("arn:aws:sqs:")
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] == 3


def test_several_mappings_start_one_execution_each_and_a_repeated_tick_starts_none(sb, stack):
    mappings = [
        {"role_id": PARTNER_ROLE, "group_id": PARTNERS_GROUP},
        {"role_id": "rol_JLU9bRONfMBQAgNI", "group_id": ENGINEERING},
    ]
    tick = {"mappings": mappings, "scheduled_time": "2026-11-23T09:00:00+10:00"}
    fan_out = stack.execute(MACHINE, tick)
    assert fan_out.status == "SUCCEEDED", fan_out.cause_message
    assert [r["status"] for r in fan_out.output["runs"]] == ["started", "started"]
    runs = stack.wait_all(MACHINE)
    again = stack.execute(MACHINE, tick)  # EventBridge Scheduler delivers at least once
    assert [r["status"] for r in again.output["runs"]] == ["duplicate", "duplicate"]
    runs = stack.wait_all(MACHINE)
    assert len(runs) == 4  # two fan-outs, two mapping runs: the repeated tick started no run
    children = [r for r in runs.values() if r.output and "report" in r.output]
    assert sorted(r.output["report"]["role_id"] for r in children) == sorted(m["role_id"] for m in mappings)
    assert "00uZPx7YubxGT9rKLiKE" in sb.okta.group_member_ids(ENGINEERING)  # Ada (Tenant Admin) was in Okta


@pytest.mark.slow
def test_many_members_stream_from_the_listing_into_the_worker(sb, stack):
    """Enough members for several role pages and batches (larger runs: python -m bench provisioning)."""
    sb.auth0.bulk_add_users(300, role_id=PARTNER_ROLE, email_template="member{n}@bulk.example")
    report = provision(stack)
    assert report["members"] == 306  # four role pages
    assert report["counts"] == {"provisioned": 304, "existing_added": 1, "failed": 1}
    assert report["batches"] == 7 and report["listing_complete"] is True
    assert stack.payload_violations == []
    assert report["api_calls_per_member"]["auth0"] < 0.05
    # One worker invocation, its loop choice, the listing, deprovisioning: a handful of transitions.
    assert report["cost"]["state_transitions"] <= 12
