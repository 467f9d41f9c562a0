# simple-proxy server image: `docker build -t simple-proxy .` (or `buildah bud`).
# Build stage: the full dev install compiles TypeScript and the oclif manifest, then drops dev deps.
FROM node:20-bookworm-slim AS build
WORKDIR /src
# A C compiler for native/malloc-trim.c (scripts/build-native.mjs); the runtime stage takes only the built addon.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/sort-manifest.mjs scripts/build-native.mjs scripts/
COPY bin bin
COPY src src
COPY native native
RUN npm run build && npm prune --omit=dev --ignore-scripts

# Runtime stage: Node, tini as PID 1 (signals and zombies), and the tools the tunnel backends run.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates iproute2 iputils-ping wireguard-tools wireguard-go openvpn \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/simple-proxy --shell /usr/sbin/nologin simple-proxy \
 && mkdir -p /etc/simple-proxy /var/lib/simple-proxy /run/simple-proxy \
 && chown simple-proxy:simple-proxy /var/lib/simple-proxy /run/simple-proxy
WORKDIR /opt/simple-proxy
COPY --from=build /src/package.json /src/oclif.manifest.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/bin bin
COPY --from=build /src/native native
COPY assets assets
COPY examples/container-config.yaml /etc/simple-proxy/server-config.yaml
RUN ln -s /opt/simple-proxy/bin/simple-proxy-server.js /usr/local/bin/simple-proxy-server \
 && ln -s /opt/simple-proxy/bin/simple-proxy-client.js /usr/local/bin/simple-proxy-client
ENV NODE_ENV=production \
    SIMPLE_PROXY_CONFIG=/etc/simple-proxy/server-config.yaml \
    SIMPLE_PROXY_STATE_DIR=/var/lib/simple-proxy \
    SIMPLE_PROXY_RUNTIME_DIR=/run/simple-proxy
# The state dir (logs, debug captures, learned state) outlives the container.
VOLUME ["/var/lib/simple-proxy"]
USER simple-proxy
EXPOSE 8080 1080 9090
# `status` asks the daemon over its control socket: it fails when the daemon is gone or wedged.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["simple-proxy-server", "status", "--json"]
ENTRYPOINT ["/usr/bin/tini", "--", "simple-proxy-server"]
CMD ["start", "--foreground"]
