# One image for the simulator and the collector (and the dashboards and pdm CLIs).
#
#   docker build -t factory-telemetry .
#   docker run --rm factory-telemetry factory-sim run --help
#
# Stage 1 builds wheels for the project and its dependencies, pinned by constraints.txt
# (the same versions `make venv` installs and the tests run); stage 2 is a slim runtime
# that installs only those wheels (no compiler, no pip cache, no source tree) and runs as
# an unprivileged user. The base image is pinned to a patch release and its digest.
ARG PYTHON_IMAGE=python:3.12.11-slim-bookworm@sha256:519591d6871b7bc437060736b9f7456b8731f1499a57e22e6c285135ae657bf7

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY telemetry ./telemetry
COPY simulator ./simulator
COPY collector ./collector
COPY dashboards ./dashboards
COPY stack ./stack
COPY pdm ./pdm
RUN pip wheel --constraint constraints.txt --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="factory-telemetry" \
      org.opencontainers.image.description="Smart-factory simulator and MQTT->InfluxDB collector" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 factory \
 && useradd --system --uid 10001 --gid factory --home-dir /home/factory --create-home \
      --shell /usr/sbin/nologin factory
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels factory-telemetry && rm -rf /wheels
# Mount points for named volumes (a fresh volume takes over this ownership):
# /data holds the collector's spool, /acl the broker ACL written by the plant service,
# /tokens/* the InfluxDB tokens written by influxdb-init.
RUN mkdir -p /data /acl /tokens/writer /tokens/reader \
 && chown factory:factory /data /acl /tokens/writer /tokens/reader
USER 10001:10001
WORKDIR /home/factory
CMD ["factory-sim", "--help"]
