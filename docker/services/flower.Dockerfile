# Flower for the compose stack, from PyPI (hash-locked), where mher/flower cannot be pulled.
# Built by docker/build-services.sh FROM the locally built base; runs as uid 10003.
# Same contract as the upstream image: `celery --broker=… flower --port=5555` on PATH.
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
RUN update-ca-certificates && python3 -m venv /opt/flower
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1
COPY docker/services/flower.lock /tmp/flower.lock
RUN /opt/flower/bin/pip install ${PIP_INDEX_URL:+--index-url "$PIP_INDEX_URL"} \
        --no-cache-dir --require-hashes --no-deps -r /tmp/flower.lock \
    && /opt/flower/bin/pip uninstall -y pip

FROM ${BASE_IMAGE}
ARG PYTHON_VERSION=3.11.2-1+b1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3="${PYTHON_VERSION}" \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10003 flower \
    && useradd --system --uid 10003 --gid 10003 --create-home --home-dir /home/flower --shell /usr/sbin/nologin flower
COPY --from=builder /opt/flower /opt/flower
ENV PATH=/opt/flower/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10003:10003
WORKDIR /home/flower
EXPOSE 5555
CMD ["celery", "flower"]
