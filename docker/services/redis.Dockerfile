# Redis for the compose stack, from Debian's package, where redis:7.2-bookworm cannot be pulled.
# Built by docker/build-services.sh FROM the locally built base; runs as its `redis` user (uid 10004).
# Same contract as the upstream image for docker/compose.yaml: `redis-server …` on PATH, data in /data.
ARG BASE_IMAGE=vodfleet/debian-base:bookworm
FROM ${BASE_IMAGE}
ARG REDIS_VERSION=5:7.0.15-1~deb12u10
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The package's `redis` user, created first with a fixed id (the package's postinst reuses it).
RUN groupadd --system --gid 10004 redis \
    && useradd --system --uid 10004 --gid 10004 --home-dir /var/lib/redis --no-create-home \
        --shell /usr/sbin/nologin redis \
    && apt-get update \
    && apt-get install -y --no-install-recommends redis-server="${REDIS_VERSION}" redis-tools="${REDIS_VERSION}" \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o 10004 -g 10004 -m 0750 /data
USER 10004:10004
WORKDIR /data
VOLUME ["/data"]
EXPOSE 6379
# Like the upstream image: redis-server on every interface of the container, protected mode off.
COPY docker/services/redis-entrypoint.sh /usr/local/bin/redis-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/redis-entrypoint.sh"]
CMD ["redis-server"]
