-- Members schema v2: data protection (erasure, consent history, sealed free text).
--
-- Which columns are personal, and how each is kept (services/members/mb_store.h
-- repeats this for the code):
--
--   members.email_enc          the member's email        AES-256-GCM, member key
--   members.name_enc           the member's name         AES-256-GCM, member key
--   status_events.reason_enc   freeze / unfreeze reason  AES-256-GCM, member key
--                              (free text an admin types: it may name the person)
--   cards.card_number          pseudonymous numbers: kept in clear, because a card
--                              must be found by its number (POS lookups); they say
--                              nothing about the person once the above is erased
--
-- Every sealed value is nonce (12) || ciphertext || tag (16) under the member's own
-- key (member_keys.key), with associated data = the 16 bytes of the member id
-- followed by the field's label ("" for email, as in v1; "name"; "status_reason"),
-- so a ciphertext copied to another member or another column does not open.
--
-- Erasure (members.erase) deletes the member's member_keys row and sets erased_at:
-- the ciphertexts stay but no longer open, in this database and in every backup
-- taken afterwards; consents are withdrawn (a consent_events row says so); no
-- ledger data is touched. Erasing again changes nothing.
--
-- status_events.reason (v1 stored it in clear) is now always NULL for new rows
-- (CHECK ... NOT VALID: enforced on every new or updated row, not on old ones); the
-- service may only clear it (column UPDATE grant + the same check), which erasure
-- does for rows written before v2.
--
-- A deleted key's bytes survive in PostgreSQL until its dead tuple is vacuumed
-- (and in WAL until recycled): member_keys is vacuumed as soon as autovacuum sees
-- one dead row, so a physical backup taken after that holds no trace of the key.

ALTER TABLE members.members ADD COLUMN name_enc bytea;
ALTER TABLE members.members ADD COLUMN erased_at bigint NOT NULL DEFAULT 0;
-- The current consents (columns of v1) stay where they are; their history:

-- Consent history, append-only: one row per change (and one for the consents given
-- at enrollment). source: enroll, app (the member app's POST .../consents), erasure
-- (withdrawn by erasure), migration (the state found when v2 was applied).
CREATE TABLE members.consent_events (
    member_id uuid     NOT NULL REFERENCES members.members (id),
    marketing boolean  NOT NULL,
    profiling boolean  NOT NULL,
    source    text     NOT NULL CHECK (source IN ('enroll', 'app', 'erasure', 'migration')),
    key_id    uuid,              -- the API key that made the change
    at        bigint   NOT NULL
);
CREATE INDEX consent_events_member ON members.consent_events (member_id, at);
INSERT INTO members.consent_events (member_id, marketing, profiling, source, at)
    SELECT id, consent_marketing, consent_profiling, 'migration', created_at FROM members.members;

ALTER TABLE members.status_events ADD COLUMN reason_enc bytea;
ALTER TABLE members.status_events ALTER COLUMN reason DROP NOT NULL;
ALTER TABLE members.status_events ADD CONSTRAINT status_events_reason_sealed
    CHECK (reason IS NULL) NOT VALID;

ALTER TABLE members.member_keys SET (autovacuum_vacuum_threshold = 0,
                                     autovacuum_vacuum_scale_factor = 0);

GRANT SELECT, INSERT ON members.consent_events TO coal_members;
GRANT UPDATE (reason) ON members.status_events TO coal_members;
