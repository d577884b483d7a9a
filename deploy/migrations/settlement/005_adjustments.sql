-- Settlement schema v5: four-eyes member adjustments (issue 6, item 5).
--
-- An admin proposes (POST /v1/adjustments): a row with status 1 (pending_approval),
-- proposed_by = the proposing API key. Another admin key approves (POST
-- /v1/adjustments/{id}/approve): settlement books one ledger transfer between the
-- coalition's adjustment account (st_adjustment_account) and the member, code 10
-- (ST_CODE_ADJUSTMENT), user_data = the adjustment, id transfer_id =
-- lc_id_derive(id, "transfer") (fixed at the proposal, so a retried approval
-- posts once), then writes status 2 (posted) or, when the ledger refused the
-- transfer (not enough points for a debit, frozen member), 3 (refused) with the
-- API code it answered. A decided row never changes again.
--
-- Rules:
--   - four eyes: the approving key is never the proposing key (also checked here);
--   - approval_id is derived from the approving request's Idempotency-Key, so the
--     same approval retried answers again, and any other approval gets 409;
--   - coal_settlement may SELECT, INSERT and UPDATE, never DELETE.

CREATE TABLE settlement.adjustments (
    id          uuid     PRIMARY KEY,
    member_id   uuid     NOT NULL,
    points      bigint   NOT NULL CHECK (points <> 0),
    reason      text     NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    status      smallint NOT NULL CHECK (status IN (1, 2, 3)), -- pending_approval, posted,
                                                               -- refused
    proposed_by uuid     NOT NULL,
    proposed_at bigint   NOT NULL,
    transfer_id uuid     NOT NULL,
    approved_by uuid     CHECK (approved_by <> proposed_by),
    approved_at bigint,
    approval_id uuid,
    refusal     text,
    CHECK ((status = 1) = (approved_by IS NULL)),
    CHECK ((status = 1) = (approval_id IS NULL)),
    CHECK ((status = 3) = (refusal IS NOT NULL))
);
CREATE INDEX adjustments_member ON settlement.adjustments (member_id);

GRANT SELECT, INSERT, UPDATE ON settlement.adjustments TO coal_settlement;
