/**
 * The one visibility rule, as SQL: which cases an agency may see. Every query that lists or finds
 * cases, dossiers, pages, search hits or audit events joins through this predicate, so that one
 * change here widens or narrows all of them alike.
 *
 * An agency sees a case it owns, or one of whose dossiers was transferred to it, whatever the
 * transfer's state: pending (to decide), accepted (it holds it), returned (kept read-only, so the
 * receiver can still show what it sent back; acting on it is refused by dossier/custody/rules.ts).
 *
 * `caseAlias` names the cases row (e.g. `c`), `agencyParam` the placeholder holding the agency (e.g. `$1`).
 */
export function caseVisibleSql(caseAlias: string, agencyParam: string): string {
  return `(${caseAlias}.agency_id = ${agencyParam} OR EXISTS (SELECT 1 FROM transfers vis_t WHERE vis_t.case_id = ${caseAlias}.id AND vis_t.to_agency = ${agencyParam}))`;
}
