-- preload.sql: the `scale` scenario's database, written in bulk before the ledger
-- starts (tests/bench/bench.sh runs it with psql as the cluster superuser).
--
--   psql -v members=N -v entries=M -f preload.sql
--
-- Accounts use the ids bench_ledger.c derives (bench_ledger's s_account: kind byte
-- 1 member, 2 partner, 9 the funding operator; the number in the last 4 bytes), so
-- the load client finds them without a setup phase.
--
-- The journal gets exactly :entries transfers: first one funding transfer per
-- member (operator -> member, 1,000,000,000 points), then member -> next member
-- transfers of 1 point, round-robin, so that every account's running totals
-- have a closed form and the accounts table agrees with the journal it
-- summarises. :entries - :members must be a multiple of :members.
--
-- Rows go in with multi-row INSERT ... SELECT generate_series (one statement per
-- table), the indexes are built once afterwards, then ANALYZE. The hash chain of
-- these rows is a placeholder (32 zero bytes): start-up reads only the head, and
-- `ledger.verify` is not part of the benchmark. The ledger continues the chain
-- from there as usual.
\set ON_ERROR_STOP 1
SET synchronous_commit = on;

-- bench_ledger's account ids as uuid text: be KK 0000-0000-7000-8000-0000 NNNNNNNN.
CREATE FUNCTION pg_temp.bench_id(kind int, n bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT (format('be%s0000-0000-7000-8000-0000%s',
                   lpad(to_hex(kind), 2, '0'), lpad(to_hex(n), 8, '0')))::uuid
$$;

BEGIN;
DROP INDEX ledger.journal_transfer_id;
DROP INDEX ledger.journal_reverses;
ALTER TABLE ledger.journal DROP CONSTRAINT journal_pkey;
ALTER TABLE ledger.accounts DROP CONSTRAINT accounts_pkey;

-- Members: 1 = LD_KIND_MEMBER, flags 1 = debits_must_not_exceed_credits. Each one
-- is credited its funding and, by the round-robin, as often debited as credited.
INSERT INTO ledger.accounts (id, kind, flags, code, debits_pending, debits_posted,
                             credits_pending, credits_posted, debt, created_seq, ts)
SELECT pg_temp.bench_id(1, m), 1, 1, 0, 0, (:entries - :members) / :members, 0,
       1000000000 + (:entries - :members) / :members, 0, 0, 0
FROM generate_series(0, :members - 1) AS m;
-- 100 partner redemption accounts (3) and the funding operator (11).
INSERT INTO ledger.accounts (id, kind, flags, code, debits_pending, debits_posted,
                             credits_pending, credits_posted, debt, created_seq, ts)
SELECT pg_temp.bench_id(2, p), 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM generate_series(0, 99) AS p
UNION ALL
SELECT pg_temp.bench_id(9, 0), 11, 0, 0, 0, :members::bigint * 1000000000, 0, 0, 0, 0, 0;

INSERT INTO ledger.journal (seq, entry_type, id, debit_account_id, credit_account_id, amount,
                            ts, prev_hash, hash)
SELECT s, 2, format('bf000000-0000-7000-8000-%s', lpad(to_hex(s), 12, '0'))::uuid,
       CASE WHEN s <= :members THEN pg_temp.bench_id(9, 0)
            ELSE pg_temp.bench_id(1, (s - :members - 1) % :members) END,
       CASE WHEN s <= :members THEN pg_temp.bench_id(1, s - 1)
            ELSE pg_temp.bench_id(1, (s - :members) % :members) END,
       CASE WHEN s <= :members THEN 1000000000 ELSE 1 END,
       1700000000000000 + s, '\x0000000000000000000000000000000000000000000000000000000000000000',
       '\x0000000000000000000000000000000000000000000000000000000000000000'
FROM generate_series(1, :entries) AS s;

ALTER TABLE ledger.accounts ADD PRIMARY KEY (id);
ALTER TABLE ledger.journal ADD PRIMARY KEY (seq);
CREATE UNIQUE INDEX journal_transfer_id ON ledger.journal (id) WHERE entry_type = 2;
CREATE INDEX journal_reverses ON ledger.journal (reverses) WHERE reverses IS NOT NULL;
COMMIT;
ANALYZE ledger.accounts;
ANALYZE ledger.journal;
