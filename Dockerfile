# One image recipe for every app: docker build --build-arg APP=outbox-poller -t fleet/outbox-poller .
# The app is bundled by tools/build.mjs (our code inlined, node_modules external), then run on a
# slim Node 24 with production dependencies only, as an unprivileged user.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY tools/build.mjs tools/fake-channels.ts tools/fake-llm.ts tools/
COPY libs libs
COPY apps apps
ARG APP
# fake-channels and fake-llm are local stand-ins for the WhatsApp / Instagram APIs and for an
# OpenAI-compatible LLM server (docker-compose only).
RUN test -n "$APP" && case "$APP" in \
      fake-channels|fake-llm) node tools/build.mjs "tools/$APP.ts" "dist/apps/$APP/main.js" ;; \
      *) node tools/build.mjs "apps/$APP" ;; \
    esac

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HEALTH_HOST=0.0.0.0
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
ARG APP
COPY --from=build /src/dist/apps/${APP}/ ./
USER node
CMD ["node", "main.js"]
