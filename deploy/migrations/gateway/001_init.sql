-- Gateway schema v1: API keys and idempotency records.
--
-- The gateway holds no state in memory that another gateway would need: keys and
-- idempotency records live here, so several gateways can run side by side.
--
-- API keys are stored only as SHA-256 hashes of their secret part; the key text
-- ("ck_<key id hex>_<secret hex>") is shown once, when it is created. A key has
-- one role; a partner key is bound to one partner. Keys are never deleted:
-- revocation sets revoked_at, so the admin log can always name a key.
--
-- Idempotency records: one per (owner, key). request_hash covers the method, the
-- path and the body; status and body are the first definitive response, replayed
-- for a retry. A record is created inside the transaction that handles the
-- request and holds its row lock until the response is stored, so a concurrent
-- duplicate waits and then replays: one effect. Records are kept at least
-- gateway.idempotency_days (default 35) days.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coal_gateway') THEN
        CREATE ROLE coal_gateway LOGIN;
    END IF;
END
$$;

CREATE SCHEMA gateway;
REVOKE ALL ON SCHEMA gateway FROM PUBLIC;
GRANT USAGE ON SCHEMA gateway TO coal_gateway;

CREATE TABLE gateway.api_keys (
    id          uuid        PRIMARY KEY,
    secret_hash bytea       NOT NULL CHECK (length(secret_hash) = 32),
    role        text        NOT NULL CHECK (role IN ('admin', 'auditor', 'partner', 'app')),
    partner_id  uuid        CHECK ((role = 'partner') = (partner_id IS NOT NULL)),
    name        text        NOT NULL DEFAULT '',
    created_by  uuid,       -- the key that created it; NULL for the bootstrap key
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_partner ON gateway.api_keys (partner_id) WHERE partner_id IS NOT NULL;

CREATE TABLE gateway.idempotency (
    owner        text        NOT NULL,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL CHECK (length(request_hash) = 32),
    status       int,        -- NULL only inside the handling transaction
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_created ON gateway.idempotency (created_at);

GRANT SELECT, INSERT, UPDATE ON gateway.api_keys TO coal_gateway;
GRANT SELECT, INSERT, UPDATE, DELETE ON gateway.idempotency TO coal_gateway;
