-- Donation schema v2: fraud limits (issue 8, item 6).
--
-- The daily donation cap (donation.daily_cap) sums a member's donations of the
-- current UTC day at every donation: an index by member and time.
CREATE INDEX donations_member ON donation.donations (member_id, created_at);
