import type { Stage } from '../../dossier/custody/model.js';
import type { StageRepository } from '../../dossier/ports/custody.js';
import { type Database, queryableIn } from './database.js';
import type { Tx } from '../../dossier/ports/transactions.js';

interface StageRow {
  name: string;
  label_en: string;
  label_zh: string;
  deadline: string;
  ord: number;
}
const toStage = (r: StageRow): Stage => ({ name: r.name, label: { en: r.label_en, 'zh-CN': r.label_zh }, deadline: r.deadline, order: r.ord });

export class SqlStageRepository implements StageRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<Stage[]> {
    return (await this.db.query<StageRow>(`SELECT * FROM stages ORDER BY ord, name`)).map(toStage);
  }

  async get(name: string): Promise<Stage | null> {
    const rows = await this.db.query<StageRow>(`SELECT * FROM stages WHERE name = $1`, [name]);
    return rows[0] ? toStage(rows[0]) : null;
  }

  async put(name: string, s: { label: Stage['label']; deadline: string; order?: number }, within?: Tx): Promise<{ stage: Stage; created: boolean }> {
    // xmax = 0 only on a freshly inserted row: tells a create from a replace in one statement.
    const rows = await queryableIn(this.db, within).query<StageRow & { created: boolean }>(
      `INSERT INTO stages (name, label_en, label_zh, deadline, ord)
       VALUES ($1, $2, $3, $4, coalesce($5::int, (SELECT coalesce(max(ord), 0) + 10 FROM stages)))
       ON CONFLICT (name) DO UPDATE SET label_en = excluded.label_en, label_zh = excluded.label_zh,
         deadline = excluded.deadline, ord = coalesce($5::int, stages.ord), updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [name, s.label.en, s.label['zh-CN'], s.deadline, s.order ?? null],
    );
    return { stage: toStage(rows[0]!), created: rows[0]!.created };
  }
}
