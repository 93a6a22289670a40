/**
 * A transfer's clock: it starts when the transfer is sent and stops when it is accepted or
 * returned (a dossier sent again is a new transfer with a clock of its own). Pending past its due
 * time is overdue; within the last 20 % of its deadline, due soon. The deadline is the stage's in
 * force when it was sent, in calendar time (dueAt is computed by the database: P1M is a month).
 */
import type { Transfer } from '../custody/model.js';

/** The share of a deadline, counted back from the due time, that makes a transfer due soon. */
export const DUE_SOON_SHARE = 0.2;

export type ClockState = 'answered' | 'on-time' | 'due-soon' | 'overdue';

export interface Clock {
  readonly state: ClockState;
  readonly dueAt: Date | null;
  /** Seconds past dueAt (overdue) or left until it (pending); null when answered or undated. */
  readonly lateSeconds: number | null;
}

export function clockOf(t: Pick<Transfer, 'status' | 'sentAt' | 'dueAt'>, now: Date): Clock {
  if (t.status !== 'pending') return { state: 'answered', dueAt: t.dueAt, lateSeconds: null };
  if (!t.dueAt) return { state: 'on-time', dueAt: null, lateSeconds: null };
  const late = (now.getTime() - t.dueAt.getTime()) / 1000;
  if (late > 0) return { state: 'overdue', dueAt: t.dueAt, lateSeconds: late };
  const span = t.dueAt.getTime() - t.sentAt.getTime();
  const soon = -late * 1000 <= span * DUE_SOON_SHARE;
  return { state: soon ? 'due-soon' : 'on-time', dueAt: t.dueAt, lateSeconds: late };
}
