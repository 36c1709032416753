"""The container image, without a container engine: this machine has the docker client but no engine, so
the image is not built here. Instead the Dockerfile is linted (hadolint, from PyPI), every RUN of it must be
a step of deploy/docker/steps.sh, and CI runs those same steps on the machine's Debian Python 3.11 (the
image's base is python:3.11-slim-bookworm): the page, the wheel, the runtime virtual environment with the
speech models, the non-root user; then the image's entrypoint serves the F1 demo as that user and the
image's health check passes.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from datavox.config import DEFAULT_F1_PATH

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
STEPS = ROOT / "deploy" / "docker" / "steps.sh"
SYSTEM_PYTHON = Path("/usr/bin/python3.11")  # Debian bookworm's, as in the image's base


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_run_is_a_ci_checked_step_and_the_image_runs_as_a_user() -> None:
    instructions = dockerfile_instructions()
    script_steps = set(re.findall(r"^(\w[\w-]*)\)$", STEPS.read_text(encoding="utf-8"), re.M))
    runs = [args for word, args in instructions if word == "RUN"]
    used = set()
    for args in runs:
        match = re.fullmatch(r"deploy/docker/steps\.sh ([\w-]+)( && rm -rf [\w/]+)?", args)
        assert match, f"RUN not checked by CI: {args}"
        used.add(match.group(1))
    assert used == script_steps == {"web-deps", "web", "wheel", "runtime", "user"}
    stages = [args for word, args in instructions if word == "FROM"]
    assert len(stages) == 3 and all(" AS " in s for s in stages)
    users = [args for word, args in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert any(word == "HEALTHCHECK" for word, _ in instructions)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def build_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: its folders are private to root, and the image's user must read the venv.
    base = Path(tempfile.mkdtemp(prefix="datavox-image-", dir="/var/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def run_step(step: str, cwd: Path, env: dict[str, str], timeout: int) -> None:
    result = subprocess.run(
        ["sh", str(cwd / "deploy/docker/steps.sh"), step],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"steps.sh {step}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.mark.timeout(1500)
def test_the_image_steps_build_and_serve_as_a_non_root_user(build_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the image's user step creates a system user: run as root, as CI does")
    if not SYSTEM_PYTHON.exists():
        pytest.skip(f"{SYSTEM_PYTHON} is missing: the steps run on Debian bookworm's Python")
    if not (Path(DEFAULT_F1_PATH) / "SHA256SUMS").exists():
        pytest.skip(f"the F1 demo data is not at {DEFAULT_F1_PATH}")
    # The build context, as .dockerignore leaves it: tracked files only (no .venv, node_modules, static).
    src = build_dir / "context"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    # The image's `python` has pip: a plain venv of the system Python stands in for it.
    tools = build_dir / "tools"
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(tools)], check=True, timeout=120)
    prefix = build_dir / "opt-datavox"
    env = {
        **os.environ,
        "PATH": f"{tools}/bin:{os.environ['PATH']}",
        "PREFIX": str(prefix),
        "DIST": str(build_dir / "dist"),
    }
    env.pop("VIRTUAL_ENV", None)
    for step, timeout in (("web-deps", 600), ("web", 300), ("wheel", 300), ("runtime", 900), ("user", 60)):
        run_step(step, src, env, timeout)
    assert list((build_dir / "dist").glob("datavox-*.whl"))

    # The image's start: the entrypoint as uid 10001, from its own data folder, on 0.0.0.0 with a token.
    home = build_dir / "home"
    home.mkdir()
    shutil.chown(home, "datavox", "datavox")
    port = _free_port()
    token = "image-test-token"
    run_env = {
        "PATH": f"{prefix}/bin:/usr/bin:/bin",
        "HOME": str(home),
        "DATAVOX_SERVER_HOST": "0.0.0.0",
        "DATAVOX_SERVER_PORT": str(port),
        "DATAVOX_DEMO_F1_PATH": DEFAULT_F1_PATH,
        "DATAVOX_API_TOKEN": token,
    }
    server = subprocess.Popen(
        [
            "setpriv",
            "--reuid=10001",
            "--regid=10001",
            "--clear-groups",
            "sh",
            str(src / "deploy/docker/entrypoint.sh"),
        ],
        cwd=home,
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        healthy = False
        while time.monotonic() < deadline and server.poll() is None:
            check = subprocess.run(
                [
                    "setpriv",
                    "--reuid=10001",
                    "--regid=10001",
                    "--clear-groups",
                    f"{prefix}/bin/python",
                    str(src / "deploy/docker/healthcheck.py"),
                ],
                env=run_env,
                capture_output=True,
                timeout=30,
            )
            if check.returncode == 0:
                healthy = True
                break
            time.sleep(1)
        assert healthy, f"never healthy; server said:\n{_output(server)}"
        uid_line = next(
            line
            for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
            if line.startswith("Uid:")
        )
        assert uid_line.split()[1] == "10001"
        url = f"http://127.0.0.1:{port}"
        assert (
            httpx.post(f"{url}/api/ask", json={"question": "Who won in 2021?"}, timeout=30).status_code == 401
        )
        answer = httpx.post(
            f"{url}/api/ask",
            json={"question": "How many races did Lewis Hamilton win in 2020?"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["error"] is None and body["sql"], body
        assert "11" in body["answer"], body["answer"]  # he won 11 races in 2020
        assert (home / "data" / "f1.duckdb").exists(), "the demo was not imported into the data folder"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _output(server: subprocess.Popen[str]) -> str:
    server.terminate()
    try:
        out, _ = server.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        out, _ = server.communicate()
    return out[-4000:]
