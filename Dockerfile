# syntax=docker/dockerfile:1
#
# One image for every Holdfast service; the command picks which one runs:
#   node services/edge/dist/main.js     (the default)
#   node services/api/dist/main.js
#   node services/worker/dist/main.js
# Settings are environment variables (README.md, docs/api.md, docs/handlers.md).
#
#   docker build -t holdfast .
#
# test/integration/deploy/dockerfile.test.ts replays these stages (COPY, RUN, WORKDIR) in temp
# directories and starts all three services from the result, so keep RUN steps to relative paths
# under WORKDIR and to the instructions that test understands.

ARG NODE_IMAGE=node:20-slim

# 1. The package manifests alone. COPY cannot glob */package.json and keep the folders, so take
#    the sources and delete the rest: the npm ci layers below then stay cached until a
#    package.json or the lockfile changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY shared shared
COPY services services
RUN find shared services -type f ! -name package.json -delete && find shared services -type d -empty -delete

# 2. Build: every dependency, then every workspace compiled to its dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /app ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs scripts/copy-assets.mjs
COPY shared shared
COPY services services
RUN npm run build
# What the runtime needs of each workspace: package.json, dist/ without type declarations, and
# bin/ (the ops CLI's `npx holdfast`, which runs dist/ when there are no sources).
RUN mkdir -p runtime && for pkg in shared/* services/*; do \
      mkdir -p "runtime/$pkg" && cp "$pkg/package.json" "runtime/$pkg/" && \
      if [ -d "$pkg/dist" ]; then cp -R "$pkg/dist" "runtime/$pkg/"; fi; \
      if [ -d "$pkg/bin" ]; then cp -R "$pkg/bin" "runtime/$pkg/"; fi; \
    done && find runtime -name '*.d.ts' -delete && find runtime -name '*.d.ts.map' -delete

# 3. Production dependencies only (workspace packages are symlinks into shared/ and services/).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /app ./
RUN npm ci --omit=dev --no-audit --no-fund
# A workspace's dependency whose version differs from the one hoisted to the root is installed
# in that workspace's own node_modules (p-limit 7 for the edge, beside a hoisted p-limit 3):
# gather those too, or the service cannot find it.
RUN mkdir -p nested && for pkg in shared/* services/*; do \
      if [ -d "$pkg/node_modules" ]; then mkdir -p "nested/$pkg" && cp -R "$pkg/node_modules" "nested/$pkg/"; fi; \
    done

# 4. What runs: node, production dependencies, compiled code. Files stay owned by root, so the
#    service (user node) cannot change its own code.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/nested ./
COPY --from=build /app/runtime ./
COPY deploy/healthcheck.mjs deploy/healthcheck.mjs
USER node
# The edge's and the API's default ports (PORT changes them).
EXPOSE 8080 8081
# /healthz of the service on $PORT; compose disables it for the worker, which serves no HTTP.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "deploy/healthcheck.mjs"]
CMD ["node", "services/edge/dist/main.js"]
