"""Cold-start import time of each handler: a fresh interpreter imports the handler module the way
the Lambda runtime does at init; median of several runs.

The interpreter sees only what Lambda would: the standard library, the function's folder, the
layer (``layers/identity/requirements.txt`` + the domain library) and boto3 (which the Lambda
runtime provides). Those packages are installed once for this machine into ``.bench/runtime``;
the developer virtualenv (moto, the SDKs, sam) is not on the path.

    python -m bench cold_start [--runs 7]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from okta_auth0_sync_testbed.template import ROOT, Template

RUNTIME = ROOT / ".bench" / "runtime"
PROBE = """
import sys, time
sys.path[:0] = [{code!r}, {layer!r}, {runtime!r}]
t0 = time.perf_counter()
import app
print(time.perf_counter() - t0)
"""


def runtime_packages() -> Path:
    """The layer's dependencies plus boto3 (as the Lambda runtime provides it), for this machine."""
    requirements = (ROOT / "layers/identity/requirements.txt").read_text()
    boto3 = re.search(r"^boto3==\S+", (ROOT / "requirements-dev.txt").read_text(), re.M).group(0)
    stamp = hashlib.sha256((requirements + boto3).encode()).hexdigest()
    marker = RUNTIME / ".stamp"
    if not marker.exists() or marker.read_text() != stamp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--upgrade",
                "--target",
                str(RUNTIME),
                "-r",
                str(ROOT / "layers/identity/requirements.txt"),
                boto3,
            ],
            check=True,
        )
        marker.write_text(stamp)
    return RUNTIME


def measure(code_dir: str, runs: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_TRACE_DISABLED", "PYTHONPATH"))}
    env.update(
        {
            "POWERTOOLS_SERVICE_NAME": "okta-auth0-sync",
            "POWERTOOLS_METRICS_NAMESPACE": "OktaAuth0Sync",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "DEACTIVATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:x",
        }
    )
    samples = []
    for _ in range(runs):
        probe = PROBE.format(code=code_dir, layer=str(ROOT / "layers/identity"), runtime=str(runtime_packages()))
        # -I: isolated (no user site, no PYTHON* variables); -S: no site-packages at all.
        out = subprocess.run(
            [sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, env=env, cwd="/", check=True
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return samples


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench cold_start")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    template = Template.load(parameters={"OktaDomain": "o.example", "Auth0Domain": "a.example"})
    runtime_packages()
    print(
        f"Cold-start import time per handler (fresh interpreter, layer + boto3 only, median of {args.runs}; "
        f"Python {sys.version.split()[0]} on this machine: Lambda arm64 differs)"
    )
    print(f"  {'function':28} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    results = {}
    for name in sorted(template.of_type("AWS::Serverless::Function")):
        code_dir = str(ROOT / template.function(name)["CodeUri"])
        samples = measure(code_dir, args.runs)
        results[name] = {
            "median_ms": round(statistics.median(samples) * 1000, 1),
            "min_ms": round(min(samples) * 1000, 1),
            "max_ms": round(max(samples) * 1000, 1),
        }
        r = results[name]
        print(f"  {name:28} {r['median_ms']:>10} {r['min_ms']:>8} {r['max_ms']:>8}")
    return results


if __name__ == "__main__":
    main()
