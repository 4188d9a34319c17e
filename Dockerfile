# syntax=docker/dockerfile:1
# One image for every part: global-cp, zone-cp and meshctl (docker-compose.yml picks the command).

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its native module when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN npm i -g pnpm@10.34.9
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change. Every workspace
# package's manifest is needed for --frozen-lockfile to match the lockfile.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/core/package.json packages/core/
COPY packages/global-cp/package.json packages/global-cp/
COPY packages/zone-cp/package.json packages/zone-cp/
COPY packages/ctl/package.json packages/ctl/
RUN pnpm install --frozen-lockfile
# Sources (.dockerignore keeps node_modules, dist and data out), then packages/*/dist.
COPY . .
RUN pnpm build

# The runtime tree: production dependencies only. The same manifests and lockfile installed again
# with --prod (no vitest, typescript, esbuild, embedded PostgreSQL, Chromium…), offline from the
# store the install above filled (better-sqlite3 comes built from its side-effects cache), then
# what the planes and meshctl read at run time: each package's dist/ and bin/, the status page,
# the .proto.
FROM build AS runtime-tree
WORKDIR /runtime
RUN cd /app && cp --parents package.json pnpm-lock.yaml pnpm-workspace.yaml packages/*/package.json /runtime/
RUN pnpm install --frozen-lockfile --prod --offline
RUN cd /app && cp -R --parents packages/*/dist packages/*/bin packages/core/gui proto /runtime/

FROM node:20-bookworm-slim
# curl and jq: the docs' way to read the admin token, run inside the global container, and healthchecks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl jq ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=runtime-tree /runtime /app
# Volumes mounted here start with this ownership, so the planes need not run as root.
RUN mkdir -p /data /tokens && chown node:node /data /tokens
USER node
# HTTP API, HTTPS API, global sync (gRPC), zone dp-server.
EXPOSE 5681 5682 5685 5678
CMD ["node", "packages/global-cp/dist/main.js"]
