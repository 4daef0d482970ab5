# Prometheus for the compose stack, from Debian's package, where prom/prometheus cannot be pulled.
# Built by docker/build-services.sh FROM the locally built base; runs as its `prometheus` user (uid 10005).
# Same contract as the upstream image: config /etc/prometheus/prometheus.yml, TSDB in /prometheus.
ARG BASE_IMAGE=vodfleet/debian-base:bookworm
FROM ${BASE_IMAGE}
ARG PROMETHEUS_VERSION=2.42.0+ds-5+deb12u1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The package's `prometheus` user gets a fixed id after the install (its postinst wants a system uid).
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus="${PROMETHEUS_VERSION}" \
    && rm -rf /var/lib/apt/lists/* \
    && groupmod --gid 10005 prometheus && usermod --uid 10005 --gid 10005 prometheus \
    && chown -R 10005:10005 /var/lib/prometheus \
    && install -d -o 10005 -g 10005 -m 0755 /prometheus
USER 10005:10005
WORKDIR /prometheus
VOLUME ["/prometheus"]
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
