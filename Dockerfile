# syntax=docker/dockerfile:1
# Xentree Graph production image: compiled JavaScript on the current Node.js LTS, production
# dependencies only, run as the unprivileged `node` user. The same image runs every role; the
# command picks it: `gateway` (default), `subgraph <name>`, `migrate`, or `start` (all in one).
#
#   docker build -t xentree-graph .
#   docker run --env-file .env -p 4000:4000 xentree-graph gateway

# Pinned to an exact release (update deliberately, with the digest if your registry policy asks
# for one: `docker buildx imagetools inspect node:26.12.1-trixie-slim`).
ARG NODE_IMAGE=node:26.12.1-trixie-slim

# 1. Build: every dependency (TypeScript and esbuild are devDependencies), then `npm run build` →
#    dist/, where the gateway command runs from one minified bundle (scripts/bundle-gateway.mjs).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# 2. Production dependencies only (no tsx, no TypeScript, no test tooling).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# Memory, measured under the gateway benchmark's heavy query on this Node.js (bench/RESULTS.md):
# two malloc arenas instead of up to eight per CPU hold 10-15 MB less, and V8's young generation
# capped at two 8 MB semi-spaces. The small young generation keeps its throughput because the
# gateway runs at most GATEWAY_BUSY_EXECUTIONS executions at once while its event loop is
# saturated, so what an execution holds dies young. Keep the flag if you set NODE_OPTIONS yourself.
ENV MALLOC_ARENA_MAX=2
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json LICENSE ./
# Embedded PostgreSQL and generated secrets are refused in production unless explicitly allowed;
# the directory exists, writable by the runtime user, for deployments that allow them.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node

# 4000: gateway; 4001-4007: subgraphs (identity, orgs, chat, knowledge, learning, live,
# integrations). Documentation only; publish what the role needs.
EXPOSE 4000 4001 4002 4003 4004 4005 4006 4007

# The gateway's liveness; subgraph containers point it at their own port and /healthz with
# HEALTHCHECK_URL (docker-compose.yml does).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL || `http://127.0.0.1:${process.env.PORT || 4000}/api/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "dist/bin/xentree.js"]
CMD ["gateway"]
