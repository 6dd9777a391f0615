# wa-warden: the supervisor and its workers under pm2-runtime, as uid 1000, behind tini.
#   docker compose up -d                       (compose.yaml: volumes, secrets, grace period)
#   docker build --build-arg BASE=<image> .    (a Debian bookworm image with Node 20)
# The sessions (/app/sessions) and the database and backups (/app/data) live in volumes, never in
# the image. Steps are ordered so that a change in src/ rebuilds only the last few layers.
ARG BASE=node:20-bookworm-slim

# ---- build: dev dependencies, TypeScript, then production dependencies only ----
FROM ${BASE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# better-sqlite3 compiles from source when no prebuilt binary can be fetched: python3, make, g++
# (a base that already has them skips apt). An npm that holds back install scripts (npm 11's
# allow-scripts) leaves it unbuilt: it is rebuilt then, and must load before the build goes on.
RUN if ! command -v g++ >/dev/null || ! command -v make >/dev/null || ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*; \
    fi \
    && npm ci --no-audit --no-fund \
    && { node -e "require('better-sqlite3')(':memory:').close()" 2>/dev/null || npm rebuild better-sqlite3; } \
    && node -e "require('better-sqlite3')(':memory:').close()"
# .dockerignore lets in only what the image needs (src, config, ecosystem, tsconfig, healthcheck).
COPY . .
RUN npm run build \
    && npm prune --omit=dev --no-audit --no-fund \
    && node -e "require('better-sqlite3')(':memory:').close()" \
    && chmod 0755 dist/cli/main.js \
    && rm -rf src tsconfig.json tsconfig.build.json

# ---- run: no compiler, no dev dependencies, not root ----
FROM ${BASE}
# tini as PID 1 forwards SIGTERM to pm2-runtime, which stops the apps in order, and reaps zombies.
# uid 1000 owns the two volume folders: Docker gives an empty named volume the owner of the image's
# folder, so a fresh volume starts writable by the app.
RUN if ! command -v tini >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*; \
    fi \
    && if ! getent passwd 1000 >/dev/null; then useradd --uid 1000 --user-group --create-home --shell /bin/sh node; fi \
    && mkdir -p /app/sessions /app/data /home/node/.pm2 \
    && chown 1000:1000 /app/sessions /app/data /home/node /home/node/.pm2 \
    && ln -s /app/dist/cli/main.js /usr/local/bin/warden
WORKDIR /app
ENV NODE_ENV=production \
    HOME=/home/node \
    PM2_HOME=/home/node/.pm2 \
    WARDEN_CONFIG=/app/config/warden.json \
    WARDEN_HOME=/app/data \
    WARDEN_FLUSH_MS=5000
VOLUME ["/app/sessions", "/app/data"]
EXPOSE 9480
HEALTHCHECK --interval=30s --timeout=5s --start-period=2m --retries=3 CMD ["node", "/app/scripts/healthcheck.cjs"]
ENTRYPOINT ["tini", "--"]
CMD ["/app/node_modules/.bin/pm2-runtime", "ecosystem.config.cjs"]
USER 1000:1000
# Last, so that a new build reuses every layer above: the app, owned by root (read-only to uid 1000).
COPY --from=build /app /app
