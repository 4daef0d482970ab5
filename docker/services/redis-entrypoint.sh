#!/bin/sh
# As the upstream image does: a `redis-server` started without a config file listens on every interface of
# the container with protected mode off (the container's network is the boundary; compose publishes the port
# on loopback only). Any other command runs as given.
set -e
if [ "${1:-}" = redis-server ]; then
    shift
    exec redis-server --bind "* -::*" --protected-mode no "$@"
fi
exec "$@"
