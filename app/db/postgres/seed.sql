-- Seed data (PostgreSQL). provision.sh replaces @SEED_USERS@ and
-- @SEED_INVOICES@ and runs this once, only while both tables are empty.
-- Rows are generated server-side and deterministic (same build, same data).
--
-- TRUNCATE gives the tables new files inside this transaction, so with the
-- build-time wal_level=minimal PostgreSQL skips WAL for the bulk load.
BEGIN;
TRUNCATE users, invoices RESTART IDENTITY;

-- Indexes are built once the rows are in, each in one sorted pass with full
-- pages (the tables are static in the image), not grown row by row in random
-- order: a smaller image and a faster build. Plain indexes are dropped here and
-- made again below from their own definitions; constraint indexes are rebuilt.
CREATE TEMP TABLE seed_indexes ON COMMIT DROP AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def,
       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) AS of_constraint
FROM pg_index i
WHERE i.indrelid IN ('users'::regclass, 'invoices'::regclass);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM seed_indexes WHERE NOT of_constraint LOOP
    EXECUTE format('DROP INDEX %s', r.name);
  END LOOP;
END $$;

INSERT INTO users (name, email, created_at)
SELECT 'user' || i,
       'user' || i || '@example.com',
       timestamp '2024-01-01 00:00:00' + i * interval '1 hour'
FROM generate_series(1, @SEED_USERS@) AS s(i);

INSERT INTO invoices (number, sequence_number, customer, amount_cents, status, issued_at)
SELECT 'INV-' || lpad(i::text, 8, '0'),
       -- the provider's sequence: a permutation of 1 .. 2^31-2, zero-padded
       lpad(((i::bigint * 48271) % 2147483647)::text, 10, '0'),
       'customer-' || lpad((i::bigint * 7919 % 10000 + 1)::text, 5, '0'),
       (100 + (i::bigint * 2654435761) % 1000003 % 99900)::integer,
       CASE WHEN (i::bigint * 2246822519) % 1000003 % 10 < 7 THEN 'paid'
            WHEN (i::bigint * 2246822519) % 1000003 % 10 < 9 THEN 'open'
            ELSE 'void' END,
       timestamp '2023-01-01 00:00:00' + ((i::bigint * 7727) % 63072000) * interval '1 second'
FROM generate_series(1, @SEED_INVOICES@) AS s(i);

-- fillfactor 100 for the build only, then reset: `\d invoices` shows the
-- migrations' definitions, and later inserts split pages as usual.
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM seed_indexes LOOP
    IF r.of_constraint THEN
      EXECUTE format('ALTER INDEX %s SET (fillfactor = 100)', r.name);
      EXECUTE format('REINDEX INDEX %s', r.name);
    ELSIF r.def ~ '\)$' AND r.def !~ ' (WITH|WHERE) ' THEN
      EXECUTE r.def || ' WITH (fillfactor = 100)';
    ELSE
      EXECUTE r.def;
    END IF;
    EXECUTE format('ALTER INDEX %s RESET (fillfactor)', r.name);
  END LOOP;
END $$;
COMMIT;
