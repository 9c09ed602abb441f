# syntax=docker/dockerfile:1
# One image for the three processes of model-gateway; the Helm chart picks the command:
#   model-gateway api | model-gateway controller | model-gateway proxy
# Build: docker build -t <registry>/model-gateway:<version> .
# The console stage builds the web console (npm ci, then the Vite build into
# gateway/console_dist) so Node.js stays out of the image; the build stage installs the package
# with those files into a virtualenv; the runtime stage copies only that virtualenv onto the
# same slim base, and runs as an unprivileged numeric user (10001, the
# chart's default runAsUser) so Kubernetes can verify runAsNonRoot. Bytecode is compiled at
# build time: the chart mounts the root filesystem read-only.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${NODE_IMAGE} AS console
WORKDIR /src/console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY console/ ./
RUN npm run build

FROM ${PYTHON_IMAGE} AS build
# The console is built by the stage above; setup.py's npm hook is skipped here.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MODEL_GATEWAY_SKIP_CONSOLE_BUILD=1
RUN python -m venv /opt/model-gateway
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY gateway/ gateway/
COPY schema/ schema/
COPY proxy/ proxy/
# gateway/kube/definitions links here: the wheel ships the CRDs (dev mode installs them).
COPY helm/model-gateway/crds/ helm/model-gateway/crds/
COPY --from=console /src/gateway/console_dist/ gateway/console_dist/
# uvloop: the proxy uses the faster event loop when it is installed.
RUN /opt/model-gateway/bin/pip install . "uvloop>=0.21,<1" \
    && /opt/model-gateway/bin/pip uninstall --yes pip \
    && /opt/model-gateway/bin/python -m compileall -q /opt/model-gateway/lib

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="model-gateway" \
      org.opencontainers.image.description="Model deployment for Kubernetes: GraphQL API, controller and auth proxy" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 model-gateway \
    && useradd --system --uid 10001 --gid model-gateway --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin model-gateway
COPY --from=build /opt/model-gateway /opt/model-gateway
ENV PATH=/opt/model-gateway/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8000 8080 8081 9090
ENTRYPOINT ["model-gateway"]
CMD ["--help"]
