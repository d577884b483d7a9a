-- Ledger schema v1: the system of record for points.
--
-- The journal is the truth: every other table here is derived state kept for fast
-- start-up (accounts' running totals, lots, pending holds, failed ids) and is
-- rewritten only by the ledger service, in the same transaction as the journal rows
-- that justify it. The invariants are stated in services/ledger/ld_state.h.
--
-- Least privilege: the tables belong to the migrating superuser; the service's role
-- coal_ledger may only INSERT and SELECT the journal (never UPDATE or DELETE it),
-- and may update the derived tables.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coal_ledger') THEN
        CREATE ROLE coal_ledger LOGIN;
    END IF;
END
$$;

CREATE SCHEMA ledger;
REVOKE ALL ON SCHEMA ledger FROM PUBLIC;
GRANT USAGE ON SCHEMA ledger TO coal_ledger;

-- One row per journal entry, gap-free seq from 1. entry_type: 1 account created,
-- 2 transfer, 3 account flags changed. Times are Unix microseconds (exact, and the
-- form the hash chain covers). hash = SHA-256(prev_hash || canonical entry), see
-- proto/README.md "Hash chain".
CREATE TABLE ledger.journal (
    seq               bigint   PRIMARY KEY,
    entry_type        smallint NOT NULL CHECK (entry_type IN (1, 2, 3)),
    id                uuid     NOT NULL,
    debit_account_id  uuid,
    credit_account_id uuid,
    amount            bigint   NOT NULL DEFAULT 0 CHECK (amount >= 0),
    pending_id        uuid,
    reverses          uuid,
    flags             integer  NOT NULL DEFAULT 0,
    code              integer  NOT NULL DEFAULT 0,
    kind              smallint NOT NULL DEFAULT 0,
    user_data         uuid,
    timeout_s         integer  NOT NULL DEFAULT 0,
    expires_at        bigint   NOT NULL DEFAULT 0,
    ts                bigint   NOT NULL,
    prev_hash         bytea    NOT NULL,
    hash              bytea    NOT NULL
);
CREATE UNIQUE INDEX journal_transfer_id ON ledger.journal (id) WHERE entry_type = 2;
CREATE INDEX journal_reverses ON ledger.journal (reverses) WHERE reverses IS NOT NULL;

-- Running totals per account (TigerBeetle's four counters) plus debt: points a
-- reversal took below zero, repaid first by later credits.
CREATE TABLE ledger.accounts (
    id              uuid     PRIMARY KEY,
    kind            smallint NOT NULL,
    flags           integer  NOT NULL,
    code            integer  NOT NULL DEFAULT 0,
    user_data       uuid,
    debits_pending  bigint   NOT NULL DEFAULT 0,
    debits_posted   bigint   NOT NULL DEFAULT 0,
    credits_pending bigint   NOT NULL DEFAULT 0,
    credits_posted  bigint   NOT NULL DEFAULT 0,
    debt            bigint   NOT NULL DEFAULT 0,
    created_seq     bigint   NOT NULL,
    ts              bigint   NOT NULL
);

-- A lot is one posted credit to a lot-tracking account; expires_at 0 = never.
-- remaining = amount - sum(allocations.amount) for the lot.
CREATE TABLE ledger.lots (
    id          uuid   PRIMARY KEY,
    account_id  uuid   NOT NULL,
    amount      bigint NOT NULL CHECK (amount >= 0),
    remaining   bigint NOT NULL CHECK (remaining >= 0),
    expires_at  bigint NOT NULL,
    expiries    integer NOT NULL DEFAULT 0,
    created_seq bigint NOT NULL
);
CREATE INDEX lots_account ON ledger.lots (account_id);

-- Which lots each journal transfer took points from (amount > 0) or gave back to
-- (amount < 0). origin_id is the debit that owns the consumption (the pending
-- transfer for holds and their post/void, the debit itself otherwise), which is
-- where a later refund gives the points back to.
-- Append-only, so every lot movement is explainable line by line.
CREATE TABLE ledger.allocations (
    seq         bigint NOT NULL,
    transfer_id uuid   NOT NULL,
    origin_id   uuid,            -- NULL: nothing owns it (expiry, debt repayment, return)
    lot_id      uuid   NOT NULL,
    amount      bigint NOT NULL CHECK (amount <> 0)
);
CREATE INDEX allocations_origin ON ledger.allocations (origin_id);
CREATE INDEX allocations_lot ON ledger.allocations (lot_id);

-- Two-phase transfers and how they ended: 1 pending, 2 posted, 3 voided, 4 expired.
CREATE TABLE ledger.pending (
    id          uuid     PRIMARY KEY,
    state       smallint NOT NULL CHECK (state BETWEEN 1 AND 4),
    deadline    bigint   NOT NULL,  -- Unix microseconds; 0 = no timeout
    resolved_by uuid
);

-- Ids whose first attempt failed for a reason that depends on state; a retry with
-- the same id answers id_already_failed, so retries never change an outcome.
CREATE TABLE ledger.failed (
    id     uuid     PRIMARY KEY,
    result smallint NOT NULL,
    ts     bigint   NOT NULL
);

GRANT SELECT, INSERT ON ledger.journal TO coal_ledger;
GRANT SELECT, INSERT ON ledger.allocations TO coal_ledger;
GRANT SELECT, INSERT ON ledger.failed TO coal_ledger;
GRANT SELECT, INSERT, UPDATE ON ledger.accounts, ledger.lots, ledger.pending TO coal_ledger;
