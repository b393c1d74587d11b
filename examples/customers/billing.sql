-- The billing system's export: accounts keyed by the CRM's customer number as text.
CREATE TABLE accounts (
    account_no  TEXT PRIMARY KEY,
    customer_ref TEXT,
    balance     REAL,
    currency    TEXT,
    email       TEXT,
    updated_at  TEXT
);
INSERT INTO accounts VALUES
  ('A-01', '1001', 120.00, 'USD', 'ana.garcia@example.com', '2024-05-30 10:00:00'),
  ('A-02', '1002', -35.50, 'EUR', 'sean.obrien@example.ie', '2024-05-29 09:30:00'),
  ('A-03', '1005', 980.25, 'INR', NULL, '2024-05-31 18:45:00'),
  ('A-04', '1007', 0.00, 'EUR', 'zoe.dubois@example.fr', '2024-04-01 12:00:00'),
  ('A-05', '3001', 55.00, 'USD', 'ghost@example.com', '2024-01-15 08:00:00');
