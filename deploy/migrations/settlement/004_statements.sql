-- Settlement schema v4: partner statements, derived from the ledger's journal.
--
-- Settlement consumes the journal stream (libcommon/lc_journal.h) in a thread of its
-- own (services/settlement/st_statement_feed.c) and turns every journal entry that
-- touches a partner's, a supplier's or the coalition's account into statement lines.
-- Exactly once: the lines an entry derives and the cursor (statement_cursor.last_seq)
-- are written in one transaction, and the consumer restarts after last_seq. The
-- rules (which entry is which line, prices, rounding): services/settlement/README.md
-- "Statements".
--
-- statement_accounts: the ledger accounts the statements need, learnt from the
-- journal's account entries (kind = ld_kind_t, owner = the account's user_data: the
-- partner or supplier id; NULL for the coalition's accounts).
--
-- statement_lines: one row per (journal entry, party) pair. party_type 1 partner,
-- 2 supplier, 3 coalition (party_id: the partner or supplier; the zero uuid for the
-- coalition). category is st_line_category_t (lc_settlement_msg.h). points is the
-- entry's amount (never negative); side says whether the party's account was the
-- debit (1) or the credit (2) side. amount_micros is signed (positive: the coalition
-- owes the party), fee_micros is what the party pays the coalition for the line
-- (rounded half to even, per line; negative for a reversal). entry_period is the
-- month of the entry's timestamp (UTC), period the month it is billed in: the same,
-- unless entry_period was closed when the entry arrived (a dated correction in the
-- next open month).
--
-- periods: closed months. A row is written once (POST
-- /v1/settlement/periods/{period}/close) and never changed; from then on no line is
-- billed in that month. statements: each party's figures of a closed month as they
-- were at the close (the final statement); reconciliation checks them against the
-- lines.
--
-- Least privilege: coal_settlement may SELECT and INSERT lines, periods and final
-- statements, never UPDATE or DELETE them: a final statement cannot be rewritten by
-- the service. Only the cursor is updated.

CREATE TABLE settlement.statement_cursor (
    id       smallint PRIMARY KEY CHECK (id = 1),
    last_seq bigint   NOT NULL CHECK (last_seq >= 0)
);
INSERT INTO settlement.statement_cursor (id, last_seq) VALUES (1, 0);

CREATE TABLE settlement.statement_accounts (
    id    uuid     PRIMARY KEY,
    kind  smallint NOT NULL CHECK (kind BETWEEN 1 AND 100),
    owner uuid,
    seq   bigint   NOT NULL
);

CREATE TABLE settlement.statement_lines (
    seq           bigint   NOT NULL CHECK (seq > 0),
    party_type    smallint NOT NULL CHECK (party_type BETWEEN 1 AND 3),
    party_id      uuid     NOT NULL,
    period        text     NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    entry_period  text     NOT NULL CHECK (entry_period ~ '^[0-9]{4}-[0-9]{2}$'),
    category      smallint NOT NULL CHECK (category BETWEEN 1 AND 100),
    side          smallint NOT NULL CHECK (side IN (1, 2)),
    transfer_id   uuid     NOT NULL,
    code          bigint   NOT NULL,
    points        bigint   NOT NULL CHECK (points >= 0),
    amount_micros bigint   NOT NULL,
    fee_micros    bigint   NOT NULL,
    at            bigint   NOT NULL,
    PRIMARY KEY (seq, party_type, party_id)
);
CREATE INDEX statement_lines_period ON settlement.statement_lines (period, party_type, party_id, seq);
CREATE INDEX statement_lines_entry_period ON settlement.statement_lines (entry_period);
CREATE INDEX statement_lines_transfer ON settlement.statement_lines (transfer_id);

CREATE TABLE settlement.periods (
    period     text   PRIMARY KEY CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    closed_at  bigint NOT NULL,
    closed_by  uuid   NOT NULL,   -- the admin key that closed it
    last_seq   bigint NOT NULL,   -- the statements' cursor when it was closed
    statements bigint NOT NULL    -- final statements written (settlement.statements)
);

CREATE TABLE settlement.statements (
    period                text     NOT NULL REFERENCES settlement.periods (period),
    party_type            smallint NOT NULL CHECK (party_type BETWEEN 1 AND 3),
    party_id              uuid     NOT NULL,
    issued_points         bigint   NOT NULL,
    reversed_points       bigint   NOT NULL,
    redeemed_points       bigint   NOT NULL,
    refunded_points       bigint   NOT NULL,
    bonus_points_funded   bigint   NOT NULL,
    bonus_points_reversed bigint   NOT NULL,
    match_points          bigint   NOT NULL,
    prepaid_points        bigint   NOT NULL,
    expired_points        bigint   NOT NULL,
    adjustment_points     bigint   NOT NULL,
    other_points          bigint   NOT NULL,
    issue_charge_micros   bigint   NOT NULL,
    redeem_credit_micros  bigint   NOT NULL,
    fee_micros            bigint   NOT NULL,
    net_micros            bigint   NOT NULL,
    lines                 bigint   NOT NULL,
    PRIMARY KEY (period, party_type, party_id)
);

GRANT SELECT, UPDATE ON settlement.statement_cursor TO coal_settlement;
GRANT SELECT, INSERT ON settlement.statement_accounts TO coal_settlement;
GRANT SELECT, INSERT ON settlement.statement_lines TO coal_settlement;
GRANT SELECT, INSERT ON settlement.periods TO coal_settlement;
GRANT SELECT, INSERT ON settlement.statements TO coal_settlement;
