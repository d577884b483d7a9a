-- Members schema v3: the member's history, derived from the ledger's journal.
--
-- The members service consumes the journal stream (libcommon/lc_journal.h) in a
-- thread of its own (services/members/mb_history.c). Every entry is applied exactly
-- once: the rows it derives and the cursor (journal_cursor.last_seq) are written in
-- one transaction, and the consumer restarts after last_seq. Entries that derive
-- nothing move the cursor later (with the next transaction, or when the stream is
-- quiet); applying them again is a no-op.
--
-- journal_accounts: the ledger accounts the history needs to know, learnt from the
-- journal's account entries: member accounts (kind 1: their id is the member id) and
-- the counterparts a member's transfer can have: partner issuance (2), partner
-- redemption (3), supplier funding (5), coalition promotion (6), charity (8) and the
-- charity pool (9). owner is the account's user_data (the partner, supplier or
-- charity id; settlement and donation set it so).
--
-- history: one row per transfer entry that touches a member account (points signed:
-- + credited to the member, - debited), keyed by (member_id, seq). type is
-- mb_history_type_t (lc_members_msg.h): 1 earn, 2 bonus, 3 pending, 4 matured,
-- 5 redemption, 6 refund, 7 return, 8 grant, 9 donation, 10 expiry, 11 adjustment.
-- The rows are booking data about a pseudonymous account, like the ledger's journal:
-- erasure of personal data leaves them.

CREATE TABLE members.journal_cursor (
    id       smallint PRIMARY KEY CHECK (id = 1),
    last_seq bigint   NOT NULL CHECK (last_seq >= 0)
);
INSERT INTO members.journal_cursor (id, last_seq) VALUES (1, 0);

CREATE TABLE members.journal_accounts (
    id    uuid     PRIMARY KEY,
    kind  smallint NOT NULL CHECK (kind BETWEEN 1 AND 11),
    owner uuid,
    seq   bigint   NOT NULL
);

CREATE TABLE members.history (
    member_id   uuid     NOT NULL,
    seq         bigint   NOT NULL CHECK (seq > 0),
    transfer_id uuid     NOT NULL,
    type        smallint NOT NULL CHECK (type BETWEEN 1 AND 11),
    points      bigint   NOT NULL,
    partner_id  uuid,
    charity_id  uuid,
    at          bigint   NOT NULL,
    PRIMARY KEY (member_id, seq)
);

GRANT SELECT, UPDATE ON members.journal_cursor TO coal_members;
GRANT SELECT, INSERT ON members.journal_accounts TO coal_members;
GRANT SELECT, INSERT ON members.history TO coal_members;
