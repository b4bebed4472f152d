-- Who may see a report, stated once: its owner, and each member with the member's role. Every query that checks
-- access reads this view, so the rule cannot differ between the report list, one report and the open streams.
-- An owner who is also listed as a member is the owner only (one row per report and user).
CREATE VIEW "report_access" AS
  SELECT r.id AS report_id, r.owner_id AS user_id, 'owner'::text AS role
  FROM reports r
  UNION ALL
  SELECT m.report_id, m.user_id, m.role
  FROM report_members m
  JOIN reports r ON r.id = m.report_id
  WHERE m.user_id <> r.owner_id;
