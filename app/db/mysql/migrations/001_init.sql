-- 001_init: users and invoices (MariaDB 10.11).
-- Applied by the datastore image at build time and, when missing, by the
-- backend at start; each applied file is recorded in schema_migrations.
CREATE TABLE users (
  id         INT          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name       VARCHAR(100) NOT NULL,
  email      VARCHAR(255) NOT NULL,
  created_at DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY users_email_key (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE invoices (
  id           INT          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number       VARCHAR(32)  NOT NULL,
  customer     VARCHAR(100) NOT NULL,
  amount_cents INT          NOT NULL,
  status       VARCHAR(10)  NOT NULL CHECK (status IN ('paid', 'open', 'void')),
  issued_at    DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY invoices_number_key (number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Invoice search by customer uses this index; checks refer to it by name.
CREATE INDEX idx_invoices_customer ON invoices (customer);
