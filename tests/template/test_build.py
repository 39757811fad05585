"""`sam build` works here: no Docker, no python3.13 (makefile build method, cp313/aarch64 wheels),
and offline: the wheels are downloaded first, then the build runs with no package index at all.

Marked ``packaging``: `make test` runs it as a step of its own (`make package-check`), beside the
Python suite rather than inside it; it is a build of the deployable artifact, not a test of code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from okta_auth0_sync_testbed.template import ROOT, Template

pytestmark = pytest.mark.packaging

SAM = Path(shutil.which("sam") or Path(sys.executable).parent / "sam")


PLATFORM = [
    "--platform",
    "manylinux2014_aarch64",
    "--platform",
    "manylinux_2_28_aarch64",
    "--platform",
    "manylinux_2_34_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    "3.13",
    "--only-binary=:all:",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    wheelhouse = ROOT / ".aws-sam" / "wheelhouse"  # what `make wheelhouse` does, kept between runs
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "-r",
            str(ROOT / "layers/identity/requirements.txt"),
            "--dest",
            str(wheelhouse),
            *PLATFORM,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert download.returncode == 0, download.stderr[-2000:]
    build_dir = tmp_path_factory.mktemp("sam-build")
    offline = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "WHEELHOUSE": str(wheelhouse),
        "PIP_INDEX_URL": "http://127.0.0.1:9/unreachable",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
    }
    result = subprocess.run(
        [str(SAM), "build", "--template", str(ROOT / "template.yaml"), "--build-dir", str(build_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=offline,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return build_dir


def test_layer_holds_the_library_and_cp313_arm64_dependencies(built):
    python = built / "IdentityLayer" / "python"
    assert (python / "okta_auth0_sync" / "runtime" / "connections.py").exists()
    for package in ("aws_lambda_powertools", "requests", "jwt", "cryptography"):
        assert (python / package).is_dir(), package
    binaries = [p.name for p in python.rglob("*.so")]
    assert binaries and all("aarch64" in name or "abi3" in name for name in binaries), binaries[:5]
    assert any("cpython-313" in name for name in binaries)
    assert not (python / "botocore").exists() and not (python / "boto3").exists()  # the runtime ships them
    assert not list(python.rglob("__pycache__"))


def test_each_function_is_only_its_own_code(built):
    template = Template.load(parameters={"OktaDomain": "o.example", "Auth0Domain": "a.example"})
    for name in template.of_type("AWS::Serverless::Function"):
        files = sorted(p.name for p in (built / name).iterdir())
        assert files == ["__init__.py", "app.py"], (name, files)
    built_template = yaml.load((built / "template.yaml").read_text(), Loader=yaml.BaseLoader)
    assert built_template["Resources"]["MintTokenFunction"]["Properties"]["CodeUri"] == "MintTokenFunction"
