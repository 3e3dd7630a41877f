-- 003_invoices_sequence_number: the payment provider's sequence number of
-- each invoice (the reference on bank statements), for finance's lookup.
-- Text, not a number: the provider zero-pads it to 10 digits and the zeros
-- are part of the reference. Looked up by equality: one index.
ALTER TABLE invoices ADD COLUMN sequence_number varchar(20) NULL;
CREATE INDEX idx_invoices_sequence_number ON invoices (sequence_number);
