/**
 * Ready jobs by kind: each claim asks for one kind, and whether a kind of higher priority has a job
 * ready or running. Under a migration's OCR backlog (hundreds of thousands of queued pages) the
 * index on run_at alone makes both questions scan every queued job.
 */
export default /* sql */ `
CREATE INDEX jobs_ready_by_kind_idx ON jobs (kind, run_at) WHERE status IN ('queued', 'running');
`;
