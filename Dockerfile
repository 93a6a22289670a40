# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY dossier ./dossier
COPY storage ./storage
COPY server ./server
COPY scripts ./scripts
COPY runtime ./runtime
# The web application: `npm ci` runs `prepare`, which builds it with Vite into dist/web.
COPY web ./web
RUN npm ci --no-fund --no-audit && npm prune --omit=dev

# Run stage: only the compiled code and production dependencies, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data && ln -s /app/dist/scripts/dossier.js /usr/local/bin/dossier
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/scripts/dossier.js", "serve"]
