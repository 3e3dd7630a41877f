-- Seed data (MariaDB). provision.sh replaces @SEED_USERS@ and
-- @SEED_INVOICES@ and runs this once, only while both tables are empty.
-- Rows come from the SEQUENCE engine (seq_1_to_N) and are deterministic.
-- The WHERE clauses keep N = 0 empty (seq_1_to_0 would count down).
SET SESSION unique_checks = 0, foreign_key_checks = 0;

INSERT INTO users (name, email, created_at)
SELECT CONCAT('user', seq),
       CONCAT('user', seq, '@example.com'),
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq HOUR
FROM seq_1_to_@SEED_USERS@
WHERE seq BETWEEN 1 AND @SEED_USERS@;

INSERT INTO invoices (number, sequence_number, customer, amount_cents, status, issued_at)
SELECT CONCAT('INV-', LPAD(seq, 8, '0')),
       -- the provider's sequence: a permutation of 1 .. 2^31-2, zero-padded
       LPAD((seq * 48271) % 2147483647, 10, '0'),
       CONCAT('customer-', LPAD((seq * 7919) % 10000 + 1, 5, '0')),
       100 + (seq * 2654435761) % 1000003 % 99900,
       CASE WHEN (seq * 2246822519) % 1000003 % 10 < 7 THEN 'paid'
            WHEN (seq * 2246822519) % 1000003 % 10 < 9 THEN 'open'
            ELSE 'void' END,
       TIMESTAMP('2023-01-01 00:00:00') + INTERVAL ((seq * 7727) % 63072000) SECOND
FROM seq_1_to_@SEED_INVOICES@
WHERE seq BETWEEN 1 AND @SEED_INVOICES@;

SET SESSION unique_checks = 1, foreign_key_checks = 1;
