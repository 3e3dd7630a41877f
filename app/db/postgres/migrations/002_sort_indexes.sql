-- 002_sort_indexes: the invoice list sorts by issued_at, amount_cents or
-- number (id breaks ties). Without an index each page sorts the whole table.
-- number is unique (invoices_number_key) and needs nothing more; for the other
-- two a one-column index is enough: PostgreSQL reads it in order and sorts
-- the few rows sharing a value by id (incremental sort). One-column indexes
-- stay small (amount_cents repeats: deduplicated), which keeps the image small.
CREATE INDEX idx_invoices_issued_at ON invoices (issued_at);
CREATE INDEX idx_invoices_amount_cents ON invoices (amount_cents);
