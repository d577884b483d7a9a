-- Settlement schema v1: the partners' side of the coalition.
--
-- Settlement owns partners and the business records of every earn, redemption,
-- refund, return, grant and prepayment: who (partner, member id - never a card
-- number or other personal data), what, when, and the ids of the ledger transfers
-- it caused. The points themselves live in the ledger; these rows say why they moved.
--
-- Rules:
--   - every transfer id below is derived from the API call's idempotency key (or from
--     an id derived so), so a retried request reproduces the same ids;
--   - a row is written only after the ledger accepted its transfers; a retry after a
--     crash in between finds the transfers (`exists`) and writes the row;
--   - rows are never deleted; statuses move forward only (pending -> posted;
--     authorized -> captured | voided | expired);
--   - times are Unix microseconds (UTC), amounts are integer cents, points integers.
--
-- Least privilege: the tables belong to the migrating superuser; the service's role
-- coal_settlement may SELECT, INSERT and UPDATE them, never DELETE or TRUNCATE, and
-- cannot change the schema.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coal_settlement') THEN
        CREATE ROLE coal_settlement LOGIN;
    END IF;
END
$$;

CREATE SCHEMA settlement;
REVOKE ALL ON SCHEMA settlement FROM PUBLIC;
GRANT USAGE ON SCHEMA settlement TO coal_settlement;

-- A partner. Its ledger accounts are derived from its id (lc_id_derive(id, label)):
-- "issuance" (partner_issuance; prepaid: no overdraft), "redemption"
-- (partner_redemption), "prepayment" (partner_prepayment).
CREATE TABLE settlement.partners (
    id                   uuid     PRIMARY KEY,
    name                 text     NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    earn_points          bigint   NOT NULL CHECK (earn_points >= 1),
    earn_per_amount      bigint   NOT NULL CHECK (earn_per_amount >= 1),
    pending_days         integer  NOT NULL CHECK (pending_days BETWEEN 0 AND 365),
    issue_price_micros   bigint   NOT NULL CHECK (issue_price_micros >= 0),
    redeem_credit_micros bigint   NOT NULL CHECK (redeem_credit_micros >= 0),
    fee_bps              integer  NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    funding              smallint NOT NULL CHECK (funding IN (1, 2)), -- 1 postpaid, 2 prepaid
    issuance_account     uuid     NOT NULL,
    redemption_account   uuid     NOT NULL,
    prepayment_account   uuid     NOT NULL,
    created_by_key       uuid     NOT NULL,   -- the admin key that created it
    created_at           bigint   NOT NULL
);

-- Item categories that earn nothing at a partner, in the order given.
CREATE TABLE settlement.partner_categories (
    partner_id uuid    NOT NULL REFERENCES settlement.partners (id),
    position   integer NOT NULL,
    category   text    NOT NULL,
    PRIMARY KEY (partner_id, position)
);

-- Points a prepaid partner bought (transfer prepayment -> issuance, id = row id).
CREATE TABLE settlement.prepayments (
    id          uuid   PRIMARY KEY,
    partner_id  uuid   NOT NULL REFERENCES settlement.partners (id),
    points      bigint NOT NULL CHECK (points > 0),
    created_at  bigint NOT NULL
);

-- An earn. transfer_id: the ledger transfer issuance -> member (a hold when the
-- partner has pending_days > 0; NULL when the earn gave 0 points). hold_id: the hold
-- currently carrying a pending earn's points (a return replaces it). credit_id: the
-- posted credit a return reverses (transfer_id for a plain earn, the post of the hold
-- for a matured one; NULL while pending). status 1 posted, 2 pending.
CREATE TABLE settlement.earns (
    id              uuid     PRIMARY KEY,
    partner_id      uuid     NOT NULL REFERENCES settlement.partners (id),
    member_id       uuid     NOT NULL,
    receipt_id      text     NOT NULL,
    amount          bigint   NOT NULL CHECK (amount >= 0),
    eligible        bigint   NOT NULL CHECK (eligible >= 0 AND eligible <= amount),
    points          bigint   NOT NULL CHECK (points >= 0),
    status          smallint NOT NULL CHECK (status IN (1, 2)),
    transfer_id     uuid,
    hold_id         uuid,
    credit_id       uuid,
    expires_at      bigint   NOT NULL,
    available_at    bigint   NOT NULL,
    returned_amount bigint   NOT NULL DEFAULT 0 CHECK (returned_amount BETWEEN 0 AND amount),
    reversed_points bigint   NOT NULL DEFAULT 0 CHECK (reversed_points BETWEEN 0 AND points),
    created_at      bigint   NOT NULL
);
CREATE INDEX earns_partner ON settlement.earns (partner_id, created_at);
CREATE INDEX earns_due ON settlement.earns (available_at) WHERE status = 2;

-- A return of goods: reverses points of an earn in proportion to the money returned.
-- transfer_id: the reversal (posted earn) or the new hold (pending earn); void_id: the
-- void of the earn's previous hold (pending earn only).
CREATE TABLE settlement.returns (
    id              uuid   PRIMARY KEY,
    earn_id         uuid   NOT NULL REFERENCES settlement.earns (id),
    partner_id      uuid   NOT NULL REFERENCES settlement.partners (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    points_reversed bigint NOT NULL CHECK (points_reversed >= 0),
    transfer_id     uuid,
    void_id         uuid,
    created_at      bigint NOT NULL
);
CREATE INDEX returns_earn ON settlement.returns (earn_id);

-- A redemption: a hold member -> partner redemption account, then captured (post),
-- voided, or expired (the ledger's timeout). status 1 authorized, 2 captured,
-- 3 voided, 4 expired.
CREATE TABLE settlement.redemptions (
    id              uuid     PRIMARY KEY,
    partner_id      uuid     NOT NULL REFERENCES settlement.partners (id),
    member_id       uuid     NOT NULL,
    receipt_id      text     NOT NULL,
    points          bigint   NOT NULL CHECK (points > 0),
    value_cents     bigint   NOT NULL CHECK (value_cents >= 0),
    status          smallint NOT NULL CHECK (status BETWEEN 1 AND 4),
    hold_id         uuid     NOT NULL,
    capture_id      uuid,
    void_id         uuid,
    captured_points bigint   NOT NULL DEFAULT 0 CHECK (captured_points BETWEEN 0 AND points),
    refunded_points bigint   NOT NULL DEFAULT 0 CHECK (refunded_points BETWEEN 0 AND captured_points),
    expires_at      bigint   NOT NULL,
    created_at      bigint   NOT NULL
);
CREATE INDEX redemptions_partner ON settlement.redemptions (partner_id, created_at);

-- A refund of captured points (transfer redemption -> member reversing the capture,
-- id = row id).
CREATE TABLE settlement.refunds (
    id            uuid   PRIMARY KEY,
    redemption_id uuid   NOT NULL REFERENCES settlement.redemptions (id),
    points        bigint NOT NULL CHECK (points > 0),
    created_at    bigint NOT NULL
);
CREATE INDEX refunds_redemption ON settlement.refunds (redemption_id);

-- Points a partner granted (issuance -> member). reason 1 survey, 2 referral,
-- 3 goodwill.
CREATE TABLE settlement.grants (
    id          uuid     PRIMARY KEY,
    partner_id  uuid     NOT NULL REFERENCES settlement.partners (id),
    member_id   uuid     NOT NULL,
    points      bigint   NOT NULL CHECK (points > 0),
    reason      smallint NOT NULL CHECK (reason BETWEEN 1 AND 3),
    transfer_id uuid     NOT NULL,
    created_at  bigint   NOT NULL
);

-- Why a request's ledger transfer failed for a state-dependent reason (the ledger
-- burns such ids: a retry answers id_already_failed), so a retry of the same request
-- gets the same API error as the first attempt.
CREATE TABLE settlement.refusals (
    id         uuid   PRIMARY KEY,   -- the refused transfer's id
    code       text   NOT NULL,      -- the API error code answered
    created_at bigint NOT NULL
);

GRANT SELECT, INSERT ON settlement.partners, settlement.partner_categories,
    settlement.prepayments, settlement.returns, settlement.refunds, settlement.grants,
    settlement.refusals TO coal_settlement;
GRANT SELECT, INSERT, UPDATE ON settlement.earns, settlement.redemptions TO coal_settlement;
