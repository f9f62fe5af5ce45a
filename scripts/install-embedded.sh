#!/usr/bin/env bash
# Install inhouse's `embedded` extra (llama-cpp-python[server]) into a virtual environment.
#
#   scripts/install-embedded.sh VENV_PYTHON
#
# llama-cpp-python ships as source and compiles llama.cpp (minutes on a small machine). We build
# it once into a wheelhouse and install from there, because:
#   * GGML_NATIVE=OFF makes a wheel that runs on any x86-64/arm64 CPU; a -march=native wheel from
#     one machine dies with "illegal instruction" on another;
#   * pip's own wheel cache ignores CMAKE_ARGS, so it could hand back a wheel built with other
#     flags. The wheelhouse folder is keyed by version + CMAKE_ARGS + Python tag + platform, so a
#     different flag set builds a different wheel.
# Idempotent: a venv that already has this exact build is left alone; a new venv installs from
# the wheelhouse in seconds.
#
# Environment: LLAMA_CPP_PYTHON_VERSION (default below), CMAKE_ARGS (default -DGGML_NATIVE=OFF),
# INHOUSE_WHEELHOUSE (default ~/.cache/inhouse/wheelhouse).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 VENV_PYTHON   (e.g. $0 .venv/bin/python)" >&2
  exit 2
fi
PY=$1
if ! "$PY" -c 'import sys' 2>/dev/null; then
  echo "error: $PY is not a runnable Python" >&2
  exit 2
fi

VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
export CMAKE_ARGS=${CMAKE_ARGS:--DGGML_NATIVE=OFF}
ROOT=${INHOUSE_WHEELHOUSE:-$HOME/.cache/inhouse/wheelhouse}

TAG=$("$PY" -c 'import sys, sysconfig; print(f"cp{sys.version_info[0]}{sys.version_info[1]}-" + sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
FLAGS=$(printf '%s' "$CMAKE_ARGS" | sha256sum | cut -c1-12)
KEY="llama-cpp-python-${VERSION}-${TAG}-cmake-${FLAGS}"
WHEELHOUSE="$ROOT/$KEY"
PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
MARKER="$PREFIX/.inhouse-embedded"

echo "install-embedded: python      $PY"
echo "install-embedded: version     llama-cpp-python[server]==$VERSION"
echo "install-embedded: CMAKE_ARGS  $CMAKE_ARGS"
echo "install-embedded: wheelhouse  $WHEELHOUSE"

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$KEY" ] \
  && "$PY" -c 'import llama_cpp, llama_cpp.server, uvicorn' 2>/dev/null; then
  echo "install-embedded: already installed (this exact build); nothing to do"
  exit 0
fi

if ! ls "$WHEELHOUSE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "install-embedded: no wheel in the wheelhouse yet; building from source (several minutes)"
  mkdir -p "$ROOT"
  BUILD=$(mktemp -d "$ROOT/.build-XXXXXX")
  trap 'rm -rf "$BUILD"' EXIT
  # --no-cache-dir: never take (or leave) a wheel in pip's cache, which does not key on CMAKE_ARGS.
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)} \
    "$PY" -m pip wheel --no-cache-dir --no-deps --no-binary llama-cpp-python \
    -w "$BUILD" "llama-cpp-python==$VERSION"
  # Move into place only once complete, so an interrupted build never looks finished.
  rm -rf "$WHEELHOUSE"
  mv "$BUILD" "$WHEELHOUSE"
  trap - EXIT
else
  echo "install-embedded: using the wheel already in the wheelhouse"
fi

# --only-binary: llama-cpp-python must come from the wheelhouse, never a fresh native build;
# its [server] dependencies (uvicorn, fastapi, ...) come from the ordinary index.
"$PY" -m pip install --find-links "$WHEELHOUSE" --only-binary llama-cpp-python \
  "llama-cpp-python[server]==$VERSION"
printf '%s' "$KEY" >"$MARKER"
"$PY" -c 'import llama_cpp; print("install-embedded: llama_cpp", llama_cpp.__version__, "ready")'
