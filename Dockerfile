# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies. The whole tree is copied (what is
# left out is in .dockerignore), so every folder the build compiles reaches it, new ones too.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-fund --no-audit && npm prune --omit=dev

# Run stage: only the compiled code and production dependencies, as a non-root user. Debian's
# tesseract and its tessdata_fast models (eng, chi_sim, osd) make OCR_ENGINE=auto pick the native
# engine, and tesseract.js (OCR_ENGINE=tesseract.js) reads the same models; without them the
# @tesseract.js-data/* packages in node_modules serve tesseract.js. poppler draws the pages whose
# scan is over the page renderer's image budget (hugemono-sized scans).
FROM node:20-bookworm-slim
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-osd poppler-utils \
 && rm -rf /var/lib/apt/lists/*
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
