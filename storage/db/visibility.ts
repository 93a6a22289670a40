/**
 * The one visibility rule, as SQL: which cases an agency may see. Every query that lists or finds
 * cases, dossiers, pages, search hits or audit events joins through this predicate, so that one
 * change here widens or narrows all of them alike.
 *
 * `caseAlias` names the cases row (e.g. `c`), `agencyParam` the placeholder holding the agency (e.g. `$1`).
 */
export function caseVisibleSql(caseAlias: string, agencyParam: string): string {
  return `(${caseAlias}.agency_id = ${agencyParam})`;
}
