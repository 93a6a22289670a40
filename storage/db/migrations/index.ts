import foundation from './001-foundation.js';
import custody from './002-custody.js';
import links from './003-links.js';
import audit from './004-audit.js';
import ocrSearch from './005-ocr-search.js';
import pageRendering from './006-page-rendering.js';
import accounts from './007-accounts.js';
import jobsByKind from './012-jobs-by-kind.js';
import supervisionIntegration from './010-supervision-integration.js';
import transferRollups from './020-transfer-rollups.js';
import workerHeartbeats from './021-worker-heartbeats.js';
import nationalSuite from './017-national-suite.js';
import federatedIdentity from './013-federated-identity.js';
import blankPages from './016-blank-pages.js';
import blobKeys from './018-blob-keys.js';
import dossierOutlines from './022-dossier-outlines.js';
import blobKeks from './023-blob-keks.js';
import blobRanges from './024-blob-ranges.js';

/** Applied in order, each once, each in its own transaction. Never edit one that has shipped. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'foundation', sql: foundation },
  { version: 2, name: 'custody', sql: custody },
  { version: 3, name: 'links', sql: links },
  { version: 4, name: 'audit', sql: audit },
  { version: 5, name: 'ocr-search', sql: ocrSearch },
  { version: 6, name: 'page-rendering', sql: pageRendering },
  { version: 7, name: 'accounts', sql: accounts },
  { version: 12, name: 'jobs-by-kind', sql: jobsByKind },
  { version: 10, name: 'supervision-integration', sql: supervisionIntegration },
  { version: 13, name: 'federated-identity', sql: federatedIdentity },
  { version: 16, name: 'blank-pages', sql: blankPages },
  { version: 17, name: 'national-suite', sql: nationalSuite },
  { version: 18, name: 'blob-keys', sql: blobKeys },
  { version: 20, name: 'transfer-rollups', sql: transferRollups },
  { version: 21, name: 'worker-heartbeats', sql: workerHeartbeats },
  { version: 22, name: 'dossier-outlines', sql: dossierOutlines },
  { version: 23, name: 'blob-keks', sql: blobKeks },
  { version: 24, name: 'blob-ranges', sql: blobRanges },
];
