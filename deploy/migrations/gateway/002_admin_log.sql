-- Gateway schema v2: the admin log (issue 6), services/gateway/gw_admin_log.h.
--
-- Every action taken with an admin key (any method but GET that reached its
-- handler or was refused for the key's role; gw_admin_log.h), once its answer is
-- known: who (key id, the key's name then, role), what (method, route pattern,
-- the concrete path with its ids), the request id, the Idempotency-Key, the
-- status answered, whether it was a replay, and when (Unix microseconds, so the
-- hashed value is exact).
--
-- Rules:
--   - append-only: the gateway's role may INSERT and SELECT, never UPDATE,
--     DELETE or TRUNCATE (tests/integration/test_admin_log_privileges.c);
--   - seq is gap-free from 1: a gateway takes the advisory lock
--     hashtext('gateway.admin_log') for its transaction, reads the last row and
--     inserts seq + 1 (the primary key refuses a fork);
--   - hash = SHA-256(prev_hash || canonical bytes of the row) with the encoding
--     of gw_admin_log.h; row 1's prev_hash is 32 zero bytes. A row changed by
--     anyone with more rights than the gateway no longer matches its hash, and
--     GET /v1/audit/admin-log/verify names it.

CREATE TABLE gateway.admin_log (
    seq             bigint      PRIMARY KEY CHECK (seq >= 1),
    at              bigint      NOT NULL,
    key_id          uuid        NOT NULL,
    key_name        text        NOT NULL,
    role            text        NOT NULL,
    method          text        NOT NULL,
    route           text        NOT NULL,
    path            text        NOT NULL,
    request_id      text        NOT NULL,
    idempotency_key text        CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    status          int         NOT NULL CHECK (status BETWEEN 100 AND 599),
    replayed        boolean     NOT NULL,
    prev_hash       bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea       NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX admin_log_key ON gateway.admin_log (key_id);

GRANT SELECT, INSERT ON gateway.admin_log TO coal_gateway;
