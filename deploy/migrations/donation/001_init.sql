-- Donation schema v1: charities, campaigns, donations, receipts, pledges, payouts.
--
-- The points live in the ledger; these rows say why they moved. Member ids only,
-- never personal data.
--
-- Rules:
--   - every ledger transfer id is derived (lc_id_derive) from the donation id, which is
--     derived from the API call's idempotency key (or, for a pledge, from the pledge id
--     and the month), so a retried request reproduces the same ids;
--   - a donation row is written (status pending) together with its campaign's
--     counters BEFORE the ledger is asked, in one transaction: the cap is reserved
--     before any point moves, so it can never be exceeded, even after a crash; the row
--     then moves forward once: pending -> posted (with its receipt, in one transaction)
--     or pending -> failed (its reservation given back, in the same transaction);
--   - a pending row (the ledger did not answer, or a crash) is finished by the retry or
--     by the service's own sweep with the same ids, so it converges;
--   - rows are never deleted; payouts, pool shares, pledge runs and receipts are
--     append-only;
--   - times are Unix microseconds (UTC), periods 'YYYY-MM', points integers.
--
-- Least privilege: the tables belong to the migrating superuser; the role
-- coal_donation may SELECT and INSERT, UPDATE only the columns named below, never
-- DELETE or TRUNCATE, and cannot change the schema.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coal_donation') THEN
        CREATE ROLE coal_donation LOGIN;
    END IF;
END
$$;

CREATE SCHEMA donation;
REVOKE ALL ON SCHEMA donation FROM PUBLIC;
GRANT USAGE ON SCHEMA donation TO coal_donation;

-- A charity. account_id = lc_id_derive(id, 'charity'), kind charity.
CREATE TABLE donation.charities (
    id              uuid    PRIMARY KEY,
    name            text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    registration_no text    NOT NULL UNIQUE CHECK (length(registration_no) BETWEEN 1 AND 64),
    verified        boolean NOT NULL,
    payout_account  text,
    account_id      uuid    NOT NULL,
    created_by_key  uuid    NOT NULL,
    created_at      bigint  NOT NULL
);

-- A campaign. raised_points / matched_points count posted and pending donations (a
-- pending one holds its reservation); the database refuses a match above the cap.
CREATE TABLE donation.campaigns (
    id               uuid    PRIMARY KEY,
    charity_id       uuid    NOT NULL REFERENCES donation.charities (id),
    name             text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    goal_points      bigint  NOT NULL CHECK (goal_points > 0),
    starts_at        bigint  NOT NULL,
    ends_at          bigint  NOT NULL CHECK (ends_at > starts_at),
    match_partner_id uuid,
    ratio_bps        integer NOT NULL DEFAULT 0 CHECK (ratio_bps >= 0),
    cap_points       bigint  NOT NULL DEFAULT 0 CHECK (cap_points >= 0),
    raised_points    bigint  NOT NULL DEFAULT 0 CHECK (raised_points >= 0),
    matched_points   bigint  NOT NULL DEFAULT 0 CHECK (matched_points >= 0),
    created_at       bigint  NOT NULL,
    CHECK (matched_points <= cap_points),
    CHECK ((match_partner_id IS NULL) = (ratio_bps = 0))
);
CREATE INDEX campaigns_charity ON donation.campaigns (charity_id);

-- A donation: member -> charity (code 101) linked with partner issuance -> charity
-- (102, the match), or member -> pool (103). charity_id is the receiving charity (the
-- campaign's), NULL for the pool. status 1 pending, 2 posted, 3 failed; refusal: the
-- API code a failed one answered; booked_at: the ledger's timestamp of the member's
-- transfer (the period it belongs to). source 1 API, 2 pledge.
CREATE TABLE donation.donations (
    id               uuid     PRIMARY KEY,
    member_id        uuid     NOT NULL,
    charity_id       uuid     REFERENCES donation.charities (id),
    campaign_id      uuid     REFERENCES donation.campaigns (id),
    pool             boolean  NOT NULL,
    points           bigint   NOT NULL CHECK (points > 0),
    matched_points   bigint   NOT NULL CHECK (matched_points >= 0),
    match_partner_id uuid,
    value_cents      bigint   NOT NULL CHECK (value_cents >= 0),
    source           smallint NOT NULL CHECK (source IN (1, 2)),
    pledge_id        uuid,
    member_transfer  uuid     NOT NULL,
    match_transfer   uuid,
    status           smallint NOT NULL CHECK (status IN (1, 2, 3)),
    refusal          text,
    booked_at        bigint,
    created_at       bigint   NOT NULL,
    CHECK (pool = (charity_id IS NULL)),
    CHECK (status <> 2 OR booked_at IS NOT NULL)
);
CREATE INDEX donations_booked ON donation.donations (booked_at) WHERE status = 2;
CREATE INDEX donations_pending ON donation.donations (created_at) WHERE status = 1;

-- The signed receipt of a posted donation (written with its status change).
CREATE TABLE donation.receipts (
    donation_id uuid   PRIMARY KEY REFERENCES donation.donations (id),
    key_id      text   NOT NULL,
    payload     text   NOT NULL,   -- base64 of the exact signed bytes
    signature   text   NOT NULL,   -- base64 Ed25519 signature
    created_at  bigint NOT NULL
);

-- A monthly pledge; cancelled_at is set once.
CREATE TABLE donation.pledges (
    id           uuid   PRIMARY KEY,
    member_id    uuid   NOT NULL,
    charity_id   uuid   NOT NULL REFERENCES donation.charities (id),
    points       bigint NOT NULL CHECK (points > 0),
    created_at   bigint NOT NULL,
    cancelled_at bigint
);

-- A pledge's month: donated (status 1, donation_id) or skipped (2, reason). The
-- primary key makes it at most once per month per pledge.
CREATE TABLE donation.pledge_runs (
    pledge_id   uuid     NOT NULL REFERENCES donation.pledges (id),
    period      text     NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    status      smallint NOT NULL CHECK (status IN (1, 2)),
    reason      text,
    donation_id uuid     REFERENCES donation.donations (id),
    points      bigint   NOT NULL CHECK (points >= 0),
    created_at  bigint   NOT NULL,
    PRIMARY KEY (pledge_id, period)
);

-- A month's payout, booked once, and its lines.
CREATE TABLE donation.payouts (
    period                  text   PRIMARY KEY CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    total_points            bigint NOT NULL CHECK (total_points >= 0),
    pool_allocated_points   bigint NOT NULL CHECK (pool_allocated_points >= 0),
    pool_unallocated_points bigint NOT NULL CHECK (pool_unallocated_points >= 0),
    created_by_key          uuid   NOT NULL,
    created_at              bigint NOT NULL
);

-- Per charity: charity -> payout clearing (code 105), id = transfer_id.
CREATE TABLE donation.payout_lines (
    period         text   NOT NULL REFERENCES donation.payouts (period),
    charity_id     uuid   NOT NULL REFERENCES donation.charities (id),
    donated_points bigint NOT NULL CHECK (donated_points >= 0),
    matched_points bigint NOT NULL CHECK (matched_points >= 0),
    pooled_points  bigint NOT NULL CHECK (pooled_points >= 0),
    points         bigint NOT NULL CHECK (points = donated_points + matched_points + pooled_points),
    value_cents    bigint NOT NULL CHECK (value_cents >= 0),
    transfer_id    uuid,
    PRIMARY KEY (period, charity_id)
);

-- Per campaign: its share of the month's pool, pool -> charity (code 104).
CREATE TABLE donation.pool_shares (
    period      text   NOT NULL REFERENCES donation.payouts (period),
    campaign_id uuid   NOT NULL REFERENCES donation.campaigns (id),
    points      bigint NOT NULL CHECK (points > 0),
    transfer_id uuid   NOT NULL,
    PRIMARY KEY (period, campaign_id)
);

GRANT SELECT, INSERT ON donation.charities, donation.campaigns, donation.donations,
    donation.receipts, donation.pledges, donation.pledge_runs, donation.payouts,
    donation.payout_lines, donation.pool_shares TO coal_donation;
GRANT UPDATE (raised_points, matched_points) ON donation.campaigns TO coal_donation;
GRANT UPDATE (status, refusal, booked_at) ON donation.donations TO coal_donation;
GRANT UPDATE (cancelled_at) ON donation.pledges TO coal_donation;
