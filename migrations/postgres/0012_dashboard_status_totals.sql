-- The rows of dashboard_status summed over workshop, category and commune.
-- The dashboard without a workshop, category or commune filter reads the
-- current states here: dashboard_status has a row per workshop, category
-- and day, so its size grows with the stock, and summing it on every page
-- took most of a page's time on large logs. This table has at most a row
-- per state and day, and per département for loans.
CREATE TABLE dashboard_status_totals (
    status TEXT NOT NULL,
    departement TEXT NOT NULL,
    day TEXT NOT NULL,
    value BIGINT NOT NULL,
    grams BIGINT NOT NULL,
    PRIMARY KEY (status, departement, day)
);

INSERT INTO dashboard_status_totals (status, departement, day, value, grams)
SELECT status, departement, day, SUM(value), SUM(grams)
FROM dashboard_status
GROUP BY status, departement, day;
