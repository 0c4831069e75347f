# m2mhub: one image, `pnpm start` on the embedded defaults, durable state in /app/data.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    M2MHUB_DATA_DIR=/app/data \
    M2MHUB_LOG__FORMAT=json

RUN npm i -g pnpm@12.4.2 && npm cache clean --force

WORKDIR /app
# Manifests first so the dependency layer is cached across source changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.json tsconfig.base.json ./
COPY packages ./packages
COPY apps ./apps
COPY scripts ./scripts
RUN pnpm install --frozen-lockfile

# MQTT/TCP, MQTT/TLS, MQTT/WS, MQTT/WSS, LwM2M UDP and DTLS, REST API
EXPOSE 1883 8883 8083 8084 5783/udp 5784/udp 18083
VOLUME /app/data

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.M2MHUB_API__PORT||18083)+'/api/v5/status').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"

STOPSIGNAL SIGTERM
CMD ["pnpm", "start"]
