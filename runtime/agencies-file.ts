/** AGENCIES_FILE: the agencies an operator configures, registered (or updated) at every start. */
import fs from 'node:fs/promises';
import { agencyListSchema } from '../dossier/custody/agency-schema.js';
import type { Agency } from '../dossier/custody/model.js';
import type { AgencyRepository } from '../dossier/ports/custody.js';
import { ConfigError } from './config.js';

export async function readAgenciesFile(file: string): Promise<Agency[]> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  AGENCIES_FILE: cannot read ${file} as JSON (${(err as Error).message})`);
  }
  const parsed = agencyListSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  AGENCIES_FILE: [${i.path.join('.')}] ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export async function registerConfiguredAgencies(file: string, agencies: AgencyRepository): Promise<number> {
  const list = await readAgenciesFile(file);
  for (const a of list) await agencies.upsert(a);
  return list.length;
}
