"""`make sandbox`: everything `sam local invoke` needs, on this machine, no AWS account.

Starts the sandbox Okta and Auth0 tenants and a moto server, creates the template's resources
there (secrets filled with sandbox credentials, tables, bucket, state machines), and writes
``.sandbox/env.json`` for ``sam local invoke --env-vars``. Then, in another terminal:

    sam build
    sam local invoke MintTokenFunction -e events/mint_token.json \\
        --env-vars .sandbox/env.json --docker-network host \\
        --parameter-overrides LocalAwsEndpoint=http://127.0.0.1:5000

On Docker Desktop (macOS, Windows) use ``--docker-host host.docker.internal`` here and drop
``--docker-network host`` there: the functions then reach the tenants and moto through it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.template import ROOT


def prepare(
    *,
    bind: str = "127.0.0.1",
    docker_host: str = "127.0.0.1",
    moto_port: int = 5000,
    okta_port: int = 0,
    auth0_port: int = 0,
    out_dir: Path = ROOT / ".sandbox",
):
    """Start tenants and moto, create the resources, write env.json. Returns (sandbox, moto, env)."""
    from moto.server import ThreadedMotoServer

    sb = sandbox_runner.start(host=bind, okta_port=okta_port, auth0_port=auth0_port)
    moto = ThreadedMotoServer(ip_address=bind, port=moto_port, verbose=False)
    moto.start()
    moto_url = f"http://{bind}:{moto.get_host_and_port()[1]}"

    def for_docker(url: str) -> str:
        return url.replace(bind, docker_host, 1)

    creds = sandbox_runner.provision_credentials(sb)
    secrets = {
        "Auth0ConnectionSecret": {**creds.auth0, "base_url": for_docker(sb.auth0.base_url)},
        "OktaConnectionSecret": {**creds.okta, "base_url": for_docker(sb.okta.base_url)},
        "EventHookSecret": {"current": "local-dev-hook-secret-change-me", "previous": ""},
    }
    deployment = LocalDeployment(
        secrets,
        endpoint_url=moto_url,
        stack_name="okta-auth0-sync",
        parameters={
            "OktaDomain": sb.okta.domain,
            "Auth0Domain": sb.auth0.domain,
            "LocalAwsEndpoint": for_docker(moto_url),
            "ApiIssuer": for_docker(f"{sb.okta.base_url}/oauth2/aus7gqIzvk6Dnq4hJmNN"),
        },
    )
    deployment.start()
    env = {**deployment.function_environment(), "AWS_DEFAULT_REGION": deployment.template.region}
    out_dir.mkdir(exist_ok=True)
    path = out_dir / "env.json"
    path.write_text(json.dumps({"Parameters": env}, indent=2) + "\n")
    path.chmod(0o600)
    return sb, moto, env, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m okta_auth0_sync_testbed.sam_local", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--bind", default="127.0.0.1", help="address the tenants and moto listen on")
    parser.add_argument(
        "--docker-host",
        default="127.0.0.1",
        help="how the function containers reach this machine (host.docker.internal on Docker Desktop)",
    )
    parser.add_argument("--moto-port", type=int, default=5000)
    args = parser.parse_args(argv)
    stop = sandbox_runner.stop_on_sigterm()
    sb, moto, env, path = prepare(bind=args.bind, docker_host=args.docker_host, moto_port=args.moto_port)
    print(f"Sandbox Okta   {sb.okta.base_url}")
    print(f"Sandbox Auth0  {sb.auth0.base_url}")
    print(f"AWS (moto)     {env.get('AWS_ENDPOINT_URL', '')}")
    print(f"Wrote {path} (secret ids, table names, state machine ARNs; no secret values)")
    print("Now, in another terminal:")
    network = " --docker-network host" if args.docker_host in ("127.0.0.1", "localhost") else ""
    print(
        f"  sam build && sam local invoke MintTokenFunction -e events/mint_token.json --env-vars {path}"
        f"{network} --parameter-overrides LocalAwsEndpoint={env.get('AWS_ENDPOINT_URL', '')}"
    )
    print("Ctrl-C to stop.", flush=True)
    try:
        sandbox_runner.serve_until_stopped(stop)
    finally:
        moto.stop()
        sb.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
