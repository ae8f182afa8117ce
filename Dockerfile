# One image for every Xentree process (gateway, each subgraph, migrations);
# the command picks the role, e.g. `gateway`, `subgraph identity`, `migrate`.
FROM node:20-bookworm-slim

WORKDIR /app

# Manifests first so the dependency layer is reused until they change.
# Plain `npm ci` (not --omit=dev): the app runs TypeScript through tsx at
# runtime. NODE_ENV is deliberately NOT set yet: with NODE_ENV=production
# npm would silently skip devDependencies.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY . .

ENV NODE_ENV=production

# Run unprivileged. The data dir is only used for embedded/dev fallbacks, but
# must be writable by the runtime user if it is ever used.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node

# 4000: gateway; 4001-4007: subgraphs (identity, orgs, chat, knowledge,
# learning, live, integrations). Documentation only; compose maps ports.
EXPOSE 4000 4001 4002 4003 4004 4005 4006 4007

# npx resolves the local node_modules/.bin/tsx; no network access at runtime.
ENTRYPOINT ["npx", "tsx", "bin/xentree.ts"]
CMD ["gateway"]
