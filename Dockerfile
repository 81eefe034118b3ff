# One image for the four services; the container's command picks the service:
#
#   node edge-api/src/index.ts | node grpc-ingest/src/index.ts | node kafka-consumer/src/index.ts
#   | node rabbit-consumer/src/index.ts
#
# Built from the repository root (docker build -t tandem .): the workspace packages (packages/*, proto/) are copied
# once and shared. TypeScript runs as it is on Node 24 (type stripping), so there is no build step: the image holds
# the sources and the production dependencies only.
#
# NODE_VERSION must equal .nvmrc (deploy-tests checks it).
ARG NODE_VERSION=24.21.0

# Only the manifests reach the install stage, so that its layer is reused until a package.json or the lock changes.
FROM node:${NODE_VERSION}-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
  && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \; \
  && cp package-lock.json /manifests/

FROM node:${NODE_VERSION}-bookworm-slim AS dependencies
WORKDIR /app
COPY --from=manifests /manifests/ ./
# `npm ci`: exactly what the lock says (it lists every platform's builds of biome, turbo and buf, which --omit=dev
# leaves out), and it never writes the lock. The workspaces that are not in the image (stack, system, tests, tools)
# are simply not installed. --ignore-scripts: the production tree needs no install script; its only one,
# protobufjs's, is denied in allowScripts too, but only npm 11.16 and later read that field: this holds on any npm.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
  && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
# How every service runs: the same settings as system/src/runtime.ts, which says why (deploy-tests checks that they
# agree): a young generation of 16 MB and an old space sized to the live data, two malloc arenas, and the
# type-stripped sources from the compile cache (below), so the type stripper is never loaded.
ENV NODE_OPTIONS="--disable-warning=TimeoutNegativeWarning --max-semi-space-size=4 --max-old-space-size=128"
ENV MALLOC_ARENA_MAX=2
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
WORKDIR /app
COPY --from=dependencies /app/ ./
COPY packages/ ./packages/
COPY proto/ ./proto/
COPY edge-api/ ./edge-api/
COPY grpc-ingest/ ./grpc-ingest/
COPY kafka-consumer/ ./kafka-consumer/
COPY rabbit-consumer/ ./rabbit-consumer/
RUN mkdir "$NODE_COMPILE_CACHE" && chown 1000:1000 "$NODE_COMPILE_CACHE"
# The image's `node` user, by number: Kubernetes can verify runAsNonRoot only for a numeric user.
USER 1000:1000
# Warms the compile cache as the user the containers run as (the cache is per user). A service loads its whole
# import graph (static imports only) before its first line runs, and a bad LOG_LEVEL then stops it at its config
# check: every source is stripped and cached, nothing connects. The root filesystem is read-only in the cluster, so
# the cache is what the build leaves; the build fails if it left nothing.
RUN for service in edge-api grpc-ingest kafka-consumer rabbit-consumer; do \
      LOG_LEVEL=warm-the-compile-cache node "$service/src/index.ts" >/dev/null 2>&1; \
      [ $? -eq 2 ] || { echo "$service did not stop at its config check" >&2; exit 1; }; \
    done \
  && [ -n "$(find "$NODE_COMPILE_CACHE" -type f | head -1)" ]
EXPOSE 8080 50051 9464 9465 9466
CMD ["node", "edge-api/src/index.ts"]
