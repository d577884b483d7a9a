-- Members schema v5: fraud limits (issue 8, item 6).
--
-- members.code_attempts wrong codes within members.code_lock_minutes lock a member's
-- codes (services/members/mb_h_code.c): every code request and use counts the
-- member's recent failures, by this index.
CREATE INDEX code_failures_member ON members.code_failures (member_id, at);
