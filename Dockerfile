# The barrack-ops image: the recipes and their locked dependencies in a virtualenv, run as
# a non-root user. Flow runs of the docker and kubernetes work pools start in it
# (deployments/docker/, deployments/kubernetes/).
#
#   make image                      # = make dist && docker build --tag barrack-ops:X.Y.Z .
#   docker run --rm barrack-ops:X.Y.Z barrack-ops --help
#
# No HEALTHCHECK: a container of this image is one flow run that ends when the run ends;
# Prefect's worker watches it, and there is no long-lived service to probe.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Stage 1: install the wheel with the locked versions (make dist's output) into
# /opt/barrack-ops. uv and its cache stay in this stage.
FROM ${PYTHON_IMAGE} AS install
ARG UV_VERSION=0.13.10
RUN python -m pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
COPY dist/ /tmp/dist/
COPY deployments/image/install.sh /tmp/install.sh
RUN UV_NO_CACHE=1 sh /tmp/install.sh /opt/barrack-ops /tmp/dist

# Stage 2: the runtime. The same base, so the virtualenv's interpreter path holds.
FROM ${PYTHON_IMAGE}
RUN useradd --create-home --home-dir /home/barrack --uid 10001 --shell /usr/sbin/nologin barrack
COPY --from=install /opt/barrack-ops /opt/barrack-ops
ENV PATH=/opt/barrack-ops/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1
USER 10001
# The deployments' pull step changes into this directory (set_working_directory).
WORKDIR /home/barrack
CMD ["barrack-ops", "--help"]
