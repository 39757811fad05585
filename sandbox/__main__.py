"""``python -m okta_auth0_sync_sandbox``: run both sandbox tenants until Ctrl-C.

Prints the two base URLs and, with ``--secrets-dir``, writes the connection files
(``okta.json``, ``okta-ssws.json``, ``auth0.json``; mode 0600) and prints their paths.
Secrets are never printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from okta_auth0_sync_sandbox.runner import Sandbox, serve_until_stopped, stop_on_sigterm
from okta_auth0_sync_sandbox.runner import launch as run_launch


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m okta_auth0_sync_sandbox", description="Run sandbox Okta and Auth0 tenants on loopback."
    )
    p.add_argument("--fixture", help="fixture JSON (default: sandbox/fixtures/default.json)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--okta-port", type=int, default=0, help="Okta port (default: ephemeral)")
    p.add_argument("--auth0-port", type=int, default=0, help="Auth0 port (default: ephemeral)")
    p.add_argument("--okta-domain", help="canonical Okta domain (default from the fixture)")
    p.add_argument("--auth0-domain", help="canonical Auth0 domain (default from the fixture)")
    p.add_argument("--secrets-dir", help="write connection JSON files (mode 0600) here")
    p.add_argument("--okta-client-id", help="service app to make a key for (default: first non-DPoP app)")
    p.add_argument(
        "--auth0-client-id", help="M2M client to make a secret for (default: first with a Management API grant)"
    )
    p.add_argument("--okta-rate-limits", type=json.loads, help='JSON, e.g. \'{"window": 6, "users": {"limit": 600}}\'')
    p.add_argument("--auth0-rate-limits", type=json.loads, help='JSON, e.g. \'{"global": {"burst": 10, "rate": 2}}\'')
    p.add_argument("--event-hooks-background", action="store_true", help="deliver Okta event hooks automatically")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return p


def launch(args: argparse.Namespace) -> tuple[Sandbox, dict[str, Any]]:
    """Start the sandbox as the CLI does (see :func:`sandbox.runner.launch`)."""
    return run_launch(
        args.fixture,
        host=args.host,
        okta_port=args.okta_port,
        auth0_port=args.auth0_port,
        okta_domain=args.okta_domain,
        auth0_domain=args.auth0_domain,
        secrets_dir=args.secrets_dir,
        okta_client_id=args.okta_client_id,
        auth0_client_id=args.auth0_client_id,
        okta_rate_limits=args.okta_rate_limits,
        auth0_rate_limits=args.auth0_rate_limits,
        event_hooks_background=args.event_hooks_background,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    stop = stop_on_sigterm()
    sb, summary = launch(args)
    print(f"Okta sandbox:  {summary['okta']['base_url']}  (domain {summary['okta']['domain']})")
    print(f"Auth0 sandbox: {summary['auth0']['base_url']}  (domain {summary['auth0']['domain']})")
    for name, path in summary.get("files", {}).items():
        print(f"  {name:<10} {path}")
    print("Admin: GET <base_url>/__sandbox  |  Ctrl-C to stop", flush=True)
    try:
        serve_until_stopped(stop)
    finally:
        sb.stop()
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
