#!/usr/bin/env bash
# Build the worker image's base (a debian:bookworm-slim equivalent) without an image registry:
# debootstrap --variant=minbase bookworm into a temporary root, trim it, `docker import` it under
# the tag the Dockerfile's FROM names. Idempotent: an existing tag is reused unless --force.
#
#   docker/build-base.sh [--force]
#
# Env: VODFLEET_BASE_TAG (default vodfleet/debian-base:bookworm),
#      DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR (default: the Debian mirrors this host's apt uses,
#      read from /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list).
set -euo pipefail

tag="${VODFLEET_BASE_TAG:-vodfleet/debian-base:bookworm}"
# The host's own Debian mirrors: the first URI ending in /debian and in /debian-security.
host_uri() {
    local f
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
        [[ -r "$f" ]] && cat "$f"
    done | grep -oE '(https?|file)://[^ ]+' | grep -E "$1/?\$" | head -n 1 || true
}
mirror="${DEBIAN_MIRROR:-$(host_uri '/debian')}"
security="${DEBIAN_SECURITY_MIRROR:-$(host_uri '/debian-security')}"
if [[ -z "$mirror" || -z "$security" ]]; then
    echo "cannot find this host's Debian mirrors in /etc/apt; set DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR" >&2
    exit 2
fi

if [[ "${1:-}" != "--force" ]] && docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base image $tag already present (use --force to rebuild)"
    exit 0
fi

root="$(mktemp -d /tmp/vodfleet-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase bookworm "$root" "$mirror"

cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES

# What debian:bookworm-slim drops: docs, man pages, locales, apt lists and caches.
cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
SLIM
cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Binary::apt::APT::Keep-Downloaded-Packages "false";
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CLEAN
echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
find "$root/usr/share/doc" -mindepth 2 -not -name copyright -not -type d -delete
rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/var/lib/apt/lists/"* \
    "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb "$root/var/log/"*.log
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

tar -C "$root" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    - "$tag"
docker image ls "$tag"
