#!/bin/sh
# The dashboard's browser tests drive Debian's own Chromium (/usr/bin/chromium) through
# Playwright's executable_path, never a browser Playwright downloads: one that the system's
# package manager keeps patched, and the same binary on a laptop, a fresh machine and CI.
#
# Idempotent and fast when it is already there; installs it where missing (as root, or through
# sudo when that is available without a password). Set INHOUSE_SKIP_CHROMIUM=1 to skip: the
# browser tests then skip, naming why.
set -eu

CHROMIUM=${INHOUSE_CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "${INHOUSE_SKIP_CHROMIUM:-}" = "1" ]; then
    echo "install-chromium: INHOUSE_SKIP_CHROMIUM=1: not installing $CHROMIUM" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: $CHROMIUM is missing and this is not a Debian-like system (no" \
        "apt-get): install Chromium and set INHOUSE_CHROMIUM to its path" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    AS_ROOT=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    AS_ROOT="sudo -n"
else
    echo "install-chromium: $CHROMIUM is missing and installing it needs root: run" \
        "'apt-get install chromium' as root (or set INHOUSE_SKIP_CHROMIUM=1)" >&2
    exit 1
fi

echo "install-chromium: installing Debian's chromium (for the dashboard's browser tests)" >&2
export DEBIAN_FRONTEND=noninteractive
$AS_ROOT apt-get update -qq
$AS_ROOT apt-get install -y -qq --no-install-recommends chromium >/dev/null
if [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium: apt-get installed chromium but $CHROMIUM is not there" >&2
    exit 1
fi
