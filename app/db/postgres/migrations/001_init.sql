-- 001_init: users and invoices (PostgreSQL 15).
-- Applied by the datastore image at build time and, when missing, by the
-- backend at start; each applied file is recorded in schema_migrations.
CREATE TABLE users (
  id         serial       PRIMARY KEY,
  name       varchar(100) NOT NULL,
  email      varchar(255) NOT NULL,
  created_at timestamp    NOT NULL DEFAULT current_timestamp,
  CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE invoices (
  id           serial       PRIMARY KEY,
  number       varchar(32)  NOT NULL,
  customer     varchar(100) NOT NULL,
  amount_cents integer      NOT NULL,
  status       varchar(10)  NOT NULL CHECK (status IN ('paid', 'open', 'void')),
  issued_at    timestamp    NOT NULL DEFAULT current_timestamp,
  CONSTRAINT invoices_number_key UNIQUE (number)
);

-- Invoice search by customer uses this index; checks refer to it by name.
CREATE INDEX idx_invoices_customer ON invoices (customer);
