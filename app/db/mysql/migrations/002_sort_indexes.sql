-- 002_sort_indexes: the invoice list sorts by issued_at, amount_cents or
-- number (id breaks ties). Without an index each page sorts the whole table.
-- number is unique (invoices_number_key) and needs nothing more. InnoDB keeps
-- the primary key (id) in every secondary index, so (col, id) costs no more
-- than (col) and serves ORDER BY col, id in both directions.
CREATE INDEX idx_invoices_issued_at ON invoices (issued_at, id);
CREATE INDEX idx_invoices_amount_cents ON invoices (amount_cents, id);
