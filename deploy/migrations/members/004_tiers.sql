-- Members schema v4: the member's tier as settlement last reported it
-- (members.set_tier; settlement computes tiers, services/settlement/st_tier.c).
-- tier is an index into tiers.names (libcommon/lc_tiers.h), 0 = the lowest;
-- tier_version is settlement's change counter: an older report never overwrites a
-- newer one, whatever order they arrive in.
ALTER TABLE members.members
    ADD COLUMN tier         smallint NOT NULL DEFAULT 0 CHECK (tier >= 0),
    ADD COLUMN tier_version bigint   NOT NULL DEFAULT 0 CHECK (tier_version >= 0);
