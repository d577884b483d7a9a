-- Settlement schema v6: fraud limits (issue 8, item 6).
--
-- The daily redemption cap (settlement.daily_redemption_cap) sums a member's
-- redemptions of the current UTC day at every authorization: an index by member
-- and time keeps that one index range scan.
CREATE INDEX redemptions_member ON settlement.redemptions (member_id, created_at);
