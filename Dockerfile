# Glimpser in a container:
#   docker build -t glimpser .
#   docker run -d -p 1880:1880 -p 1883:1883 -v glimpser-data:/data glimpser
# The first start prints the generated admin password (docker logs); set GLIMPSER_ADMIN_PASSWORD to choose it.

FROM node:22-bookworm-slim AS build
# Native addons that have no prebuilt binary for this platform compile from source.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci refuses a lock that lacks other platforms' optional packages (npm/cli#4828); installing from the same lock
# with --no-save pins the same versions, so the image stays reproducible until the lock is regenerated.
RUN npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
# tini reaps the helper processes Chromium and ffmpeg leave behind; node as PID 1 does not.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg chromium chromium-driver yt-dlp ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system glimpser \
 && useradd --system --gid glimpser --home-dir /data --no-create-home --shell /usr/sbin/nologin glimpser \
 && mkdir /data \
 && chown glimpser:glimpser /data
WORKDIR /app
# Node-RED reads the node list from package.json and seeds flows/default.json on the first start.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/flows ./flows
COPY --from=build /app/examples ./examples
# Both servers bind to loopback by default, which a published port cannot reach from outside the container.
ENV NODE_ENV=production \
    GLIMPSER_DATA_DIR=/data \
    GLIMPSER_HTTP_HOST=0.0.0.0 \
    GLIMPSER_MQTT_HOST=0.0.0.0
VOLUME /data
EXPOSE 1880 1883
USER glimpser
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:1880/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/runtime/cli.js"]
