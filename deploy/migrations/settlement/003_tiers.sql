-- Settlement schema v3: member tiers (issue 4, item 2).
--
-- A member's tier comes from the base points earned (earns.points - reversed_points:
-- not bonuses, not grants, not the balance, not redemptions) over the 12 calendar
-- months up to now, against the thresholds of tiers.* (libcommon/lc_tiers.h).
-- An upgrade takes effect at once (the earn that reaches a threshold is booked at
-- the old tier; the next one gets the new multiplier). A downgrade happens only in
-- the member's monthly review, the first evaluation in a calendar month (UTC):
-- reviewed_period holds the month (YYYYMM) of the last review, so a member is
-- downgraded at most once a month. An upgrade counts as that month's review.
--
-- The tier's extra points (tier_bps > 10000) are a coalition-funded bonus: a transfer
-- promotion -> member with code 9 (ST_CODE_TIER_BONUS), linked with the base earn
-- (posted earns), or with the post of the hold when a pending earn matures (then
-- computed on the points left after returns; tier_basis_amount is the part of the
-- earn's amount it was computed on, so later returns reverse it in proportion).
--
-- member_tiers has a row only for members who ever rose above the lowest tier.
-- version counts tier changes; pushed_version is the last one the members service
-- acknowledged (members.set_tier): the sweep resends until they are equal.

ALTER TABLE settlement.earns
    ADD COLUMN tier                 smallint NOT NULL DEFAULT 0 CHECK (tier >= 0),
    ADD COLUMN tier_bps             integer  NOT NULL DEFAULT 10000 CHECK (tier_bps >= 10000),
    ADD COLUMN tier_bonus_points    bigint   NOT NULL DEFAULT 0 CHECK (tier_bonus_points >= 0),
    ADD COLUMN tier_transfer_id     uuid,
    ADD COLUMN tier_basis_amount    bigint   NOT NULL DEFAULT 0 CHECK (tier_basis_amount >= 0),
    ADD COLUMN tier_reversed_points bigint   NOT NULL DEFAULT 0,
    ADD CONSTRAINT earns_tier_reversed CHECK (tier_reversed_points BETWEEN 0 AND tier_bonus_points);
CREATE INDEX earns_member ON settlement.earns (member_id, created_at);

ALTER TABLE settlement.returns ADD COLUMN tier_points_reversed bigint NOT NULL DEFAULT 0
    CHECK (tier_points_reversed >= 0);

CREATE TABLE settlement.member_tiers (
    member_id         uuid     PRIMARY KEY,
    tier              smallint NOT NULL CHECK (tier >= 0),
    qualifying_points bigint   NOT NULL,           -- at the last evaluation
    changed_at        bigint   NOT NULL,           -- when tier last changed
    reviewed_period   integer  NOT NULL CHECK (reviewed_period BETWEEN 197001 AND 999912),
    version           bigint   NOT NULL CHECK (version >= 1),
    pushed_version    bigint   NOT NULL DEFAULT 0 CHECK (pushed_version <= version)
);
CREATE INDEX member_tiers_review ON settlement.member_tiers (reviewed_period) WHERE tier > 0;
CREATE INDEX member_tiers_unpushed ON settlement.member_tiers (member_id)
    WHERE pushed_version < version;

GRANT SELECT, INSERT, UPDATE ON settlement.member_tiers TO coal_settlement;
