-- Settlement schema v2: coupons and promotions (issue 4, item 1).
--
-- A coupon adds bonus points to an earn: a multiplier m adds base x (m - 1), a bonus
-- coupon its bonus_points. The bonus is paid by the coupon's funder: a partner (its
-- issuance account), the coalition (the promotion account, st_promotion_account) or a
-- supplier (its funding account, st_supplier_account, created on first use). Each
-- bonus is its own ledger transfer funder -> member, linked with the earn's base
-- transfer in one chain: all are posted or none.
--
-- Rules:
--   - a code is unique; a coupon is never deleted nor changed;
--   - a member uses a coupon only after activating it (coupon_activations, one row
--     per member and coupon: activating again changes nothing);
--   - earn_coupons holds every code an earn presented, applied (reason NULL) or
--     rejected (reason = st_coupon_reason_t), in the order given. It is written in
--     the same transaction as the earn row, so the uses of a coupon by a member
--     (count of applied rows) count each earn once, however often it is retried;
--   - reversed_points of an applied row grows with returns of its earn, up to
--     bonus_points.

CREATE TABLE settlement.coupons (
    id             uuid     PRIMARY KEY,
    code           text     NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    partner_id     uuid     REFERENCES settlement.partners (id), -- NULL: every partner
    kind           smallint NOT NULL CHECK (kind IN (1, 2)),   -- 1 multiplier, 2 bonus
    multiplier     bigint   CHECK (multiplier >= 2),
    bonus_points   bigint   CHECK (bonus_points >= 1),
    funder_type    smallint NOT NULL CHECK (funder_type BETWEEN 1 AND 3), -- partner,
                                                               -- coalition, supplier
    funder_id      uuid,                                       -- NULL for the coalition
    funder_account uuid     NOT NULL,                          -- the ledger account debited
    valid_from     bigint   NOT NULL,
    valid_until    bigint   NOT NULL,
    max_per_member integer  NOT NULL CHECK (max_per_member >= 1),
    created_at     bigint   NOT NULL,
    CHECK (valid_until >= valid_from),
    CHECK ((kind = 1 AND multiplier IS NOT NULL AND bonus_points IS NULL) OR
           (kind = 2 AND bonus_points IS NOT NULL AND multiplier IS NULL)),
    CHECK ((funder_type = 2) = (funder_id IS NULL))
);

CREATE TABLE settlement.coupon_activations (
    coupon_id    uuid   NOT NULL REFERENCES settlement.coupons (id),
    member_id    uuid   NOT NULL,
    activated_at bigint NOT NULL,
    PRIMARY KEY (coupon_id, member_id)
);

CREATE TABLE settlement.earn_coupons (
    earn_id         uuid     NOT NULL REFERENCES settlement.earns (id),
    position        integer  NOT NULL,
    code            text     NOT NULL,
    coupon_id       uuid     REFERENCES settlement.coupons (id),
    member_id       uuid     NOT NULL,
    reason          smallint,                    -- NULL: applied
    bonus_points    bigint   NOT NULL DEFAULT 0 CHECK (bonus_points >= 0),
    transfer_id     uuid,                        -- the bonus transfer (NULL for 0 points)
    funder_account  uuid,
    reversed_points bigint   NOT NULL DEFAULT 0 CHECK (reversed_points BETWEEN 0 AND bonus_points),
    PRIMARY KEY (earn_id, position),
    CHECK (reason IS NOT NULL OR coupon_id IS NOT NULL)
);
CREATE INDEX earn_coupons_uses ON settlement.earn_coupons (coupon_id, member_id)
    WHERE reason IS NULL;

ALTER TABLE settlement.earns ADD COLUMN bonus_points bigint NOT NULL DEFAULT 0
    CHECK (bonus_points >= 0);

GRANT SELECT, INSERT ON settlement.coupons, settlement.coupon_activations TO coal_settlement;
GRANT SELECT, INSERT, UPDATE ON settlement.earn_coupons TO coal_settlement;

-- The coupon bonus points a return reversed (its points_reversed is the base only).
ALTER TABLE settlement.returns ADD COLUMN bonus_points_reversed bigint NOT NULL DEFAULT 0
    CHECK (bonus_points_reversed >= 0);
