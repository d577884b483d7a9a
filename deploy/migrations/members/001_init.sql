-- Members schema v1: enrollment, cards, personal data, consents, status, codes.
--
-- The ledger knows a member only by its pseudonymous account id (= members.id).
-- Personal data (email) is stored here encrypted (AES-256-GCM) under a key of the
-- member's own (member_keys): deleting that row makes the personal data unreadable
-- while every balance and journal entry stays intact.
--
-- Times are Unix microseconds. One-time redemption codes are stored only as a
-- salted SHA-256 hash (codes.hash), never in clear.
--
-- Least privilege: the tables belong to the migrating superuser; the service's
-- role coal_members reads and writes only what it needs in this schema.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coal_members') THEN
        CREATE ROLE coal_members LOGIN;
    END IF;
END
$$;

CREATE SCHEMA members;
REVOKE ALL ON SCHEMA members FROM PUBLIC;
GRANT USAGE ON SCHEMA members TO coal_members;

-- status: 1 active, 2 frozen (lc_members_msg.h mb_status_t). The last status
-- change's reason, API key and time are kept here; every change is also in
-- status_events.
CREATE TABLE members.members (
    id                uuid     PRIMARY KEY,
    status            smallint NOT NULL DEFAULT 1 CHECK (status IN (1, 2)),
    enrolled_by       uuid,              -- the partner that enrolled the member
    consent_marketing boolean  NOT NULL DEFAULT false,
    consent_profiling boolean  NOT NULL DEFAULT false,
    email_enc         bytea,             -- nonce || ciphertext || tag under member_keys.key
    created_at        bigint   NOT NULL
);

-- The member's data key (32 bytes). Erasure deletes the row.
CREATE TABLE members.member_keys (
    member_id uuid  PRIMARY KEY REFERENCES members.members (id),
    key       bytea NOT NULL CHECK (length(key) = 32)
);

-- Cards: several per member (household collectors). id is derived from the request
-- that added the card, so a retry finds the card it already added.
CREATE TABLE members.cards (
    card_number text   PRIMARY KEY CHECK (card_number ~ '^[0-9]{16}$'),
    id          uuid   NOT NULL UNIQUE,
    member_id   uuid   NOT NULL REFERENCES members.members (id),
    added_by    uuid,              -- partner
    created_at  bigint NOT NULL
);
CREATE INDEX cards_member ON members.cards (member_id, created_at);

-- Freeze / unfreeze history: who (API key id) and why.
CREATE TABLE members.status_events (
    member_id uuid     NOT NULL REFERENCES members.members (id),
    status    smallint NOT NULL CHECK (status IN (1, 2)),
    reason    text     NOT NULL,
    key_id    uuid,
    at        bigint   NOT NULL
);
CREATE INDEX status_events_member ON members.status_events (member_id, at);

-- One-time redemption codes. hash = SHA-256(id || member_id || code). A code is
-- usable while used_at = 0, invalidated is false and expires_at is in the future.
-- failures counts wrong attempts made while it was outstanding; reaching the limit
-- sets invalidated. use_id names the use that consumed it (a retry of that use
-- answers ok again).
CREATE TABLE members.codes (
    id          uuid     PRIMARY KEY,
    member_id   uuid     NOT NULL REFERENCES members.members (id),
    hash        bytea    NOT NULL CHECK (length(hash) = 32),
    created_at  bigint   NOT NULL,
    expires_at  bigint   NOT NULL,
    used_at     bigint   NOT NULL DEFAULT 0,
    use_id      uuid     UNIQUE,
    failures    integer  NOT NULL DEFAULT 0,
    invalidated boolean  NOT NULL DEFAULT false
);
CREATE INDEX codes_member ON members.codes (member_id, expires_at);

-- Wrong attempts, one per use_id, so a resent wrong attempt counts once.
CREATE TABLE members.code_failures (
    use_id    uuid   PRIMARY KEY,
    member_id uuid   NOT NULL REFERENCES members.members (id),
    at        bigint NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON members.members TO coal_members;
GRANT SELECT, INSERT, DELETE ON members.member_keys TO coal_members;
GRANT SELECT, INSERT ON members.cards TO coal_members;
GRANT SELECT, INSERT ON members.status_events TO coal_members;
GRANT SELECT, INSERT, UPDATE ON members.codes TO coal_members;
GRANT SELECT, INSERT ON members.code_failures TO coal_members;
