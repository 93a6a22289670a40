/**
 * Custody: registered agencies, each agency's own number for a case, the stages of proceedings
 * with their deadlines, and transfers of sealed dossiers between agencies with signed receipts.
 */
export default /* sql */ `
CREATE TABLE agencies (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('police', 'procuratorate', 'court', 'other')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Agencies number the same case differently; the owner's number is also cases.number.
CREATE TABLE case_numbers (
  case_id     uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
  agency_id   text NOT NULL,
  number      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, agency_id),
  UNIQUE (agency_id, number)
);
CREATE INDEX case_numbers_number_idx ON case_numbers (number);
INSERT INTO case_numbers (case_id, agency_id, number, created_at) SELECT id, agency_id, number, created_at FROM cases;

CREATE TABLE stages (
  name        text PRIMARY KEY,
  label_en    text NOT NULL,
  label_zh    text NOT NULL,
  deadline    text NOT NULL,
  ord         integer NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Defaults after the Criminal Procedure Law: 7 days to decide on arrest, a month to decide on
-- prosecution, two months for a first-instance trial and for an appeal.
INSERT INTO stages (name, label_en, label_zh, deadline, ord) VALUES
  ('arrest-review', 'Review of arrest', '审查逮捕', 'P7D', 10),
  ('prosecution', 'Review for prosecution', '审查起诉', 'P1M', 20),
  ('first-instance', 'First-instance trial', '一审', 'P2M', 30),
  ('appeal', 'Appeal (second instance)', '二审', 'P2M', 40);

CREATE TABLE transfers (
  id              uuid PRIMARY KEY,
  dossier_id      text NOT NULL REFERENCES dossiers (id),
  case_id         uuid NOT NULL REFERENCES cases (id),
  from_agency     text NOT NULL,
  to_agency       text NOT NULL REFERENCES agencies (id),
  stage           text NOT NULL REFERENCES stages (name),
  note            text,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'returned')),
  sent_by         text NOT NULL,
  sent_at         timestamptz NOT NULL DEFAULT now(),
  answered_by     text,
  answered_at     timestamptz,
  reason          text,
  receipt         text,
  idempotency_key text,
  CHECK (from_agency <> to_agency),
  CHECK (status <> 'returned' OR reason IS NOT NULL),
  UNIQUE (from_agency, idempotency_key)
);
-- At most one transfer of a dossier in flight, whatever races the rules lose.
CREATE UNIQUE INDEX transfers_one_pending_idx ON transfers (dossier_id) WHERE status = 'pending';
CREATE INDEX transfers_case_to_idx ON transfers (case_id, to_agency);
CREATE INDEX transfers_to_idx ON transfers (to_agency, sent_at);
CREATE INDEX transfers_from_idx ON transfers (from_agency, sent_at);
`;
