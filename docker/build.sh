#!/usr/bin/env bash
# Build the vodfleet worker image (and its base, once). Run from anywhere.
#
#   docker/build.sh                 build vodfleet/worker:<version>, :latest and :enc-<short fingerprint>
#   docker/build.sh --update-lock   measure the image's encoder, rewrite docker/encoder.lock, then build
#
# Env: VODFLEET_IMAGE (default vodfleet/worker), VODFLEET_BASE_TAG (default vodfleet/debian-base:bookworm),
#      VODFLEET_EXTRA_CA (PEM file/bundle trusted by pip in the builder stage only; default the host's
#      /etc/ssl/certs/ca-certificates.crt, `none` to skip), PIP_INDEX_URL (default: pip's own index),
#      VODFLEET_LOCK (default docker/encoder.lock: lets a test build against another lock).
# The build uses the classic builder (no buildx here) and a minimal context assembled in a temp folder.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
image="${VODFLEET_IMAGE:-vodfleet/worker}"
base="${VODFLEET_BASE_TAG:-vodfleet/debian-base:bookworm}"
lock="${VODFLEET_LOCK:-$here/encoder.lock}"
update_lock=0
[[ "${1:-}" == "--update-lock" ]] && update_lock=1

VODFLEET_BASE_TAG="$base" "$here/build-base.sh"

ctx="$(mktemp -d /tmp/vodfleet-context.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/docker/ca"
cp "$repo/pyproject.toml" "$repo/README.md" "$repo/LICENSE" "$ctx/"
cp -r "$repo/pipelines" "$repo/workers" "$ctx/"
cp "$here/Dockerfile" "$here/requirements.lock" "$ctx/docker/"
cp "$lock" "$ctx/docker/encoder.lock"
# Default: the host's bundle (it holds whatever CA a TLS-intercepting proxy on this network uses);
# VODFLEET_EXTRA_CA=none trusts only Debian's CAs.
extra_ca="${VODFLEET_EXTRA_CA:-/etc/ssl/certs/ca-certificates.crt}"
if [[ "$extra_ca" != none && -f "$extra_ca" ]]; then
    cp "$extra_ca" "$ctx/docker/ca/extra.crt"
fi
find "$ctx" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/pyproject.toml" | head -n1)"
revision="$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain 2>/dev/null)" ]]; then revision="$revision-dirty"; fi
read_lock() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$lock" "$1"; }

build() {  # $1 = enforce|report
    local fingerprint
    fingerprint="$(read_lock fingerprint)"
    tar -C "$ctx" -c . | DOCKER_BUILDKIT=0 docker build --force-rm -f docker/Dockerfile \
        --build-arg "BASE_IMAGE=$base" \
        --build-arg "PIP_INDEX_URL=${PIP_INDEX_URL:-}" \
        --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
        --build-arg "ENCODER_FINGERPRINT=$fingerprint" \
        --build-arg "ENCODER_FFMPEG=$(read_lock ffmpeg_version)" \
        --build-arg "ENCODER_LOCK_CHECK=$1" \
        -t "$image:$version" -t "$image:latest" -t "$image:enc-${fingerprint#sha256:}" -
}

if [[ "$update_lock" == 1 ]]; then
    build report
    docker run --rm --read-only --tmpfs /tmp --entrypoint /bin/sh "$image:latest" -c \
        'vodfleet doctor --write-lock /tmp/encoder.lock >/dev/null && cat /tmp/encoder.lock' > "$lock.new"
    mv "$lock.new" "$lock"
    cp "$lock" "$ctx/docker/encoder.lock"
    echo "updated $lock"
fi
build enforce
fingerprint="$(read_lock fingerprint)"
docker image ls "$image:enc-${fingerprint#sha256:}" --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'
