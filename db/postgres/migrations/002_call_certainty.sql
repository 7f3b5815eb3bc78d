-- schema version 2: how sure the pick of a flow as a call is (0..1: 1 for a rule, the call
-- classifier's probability for its calls), and why (the rule's file:line, or the classifier's
-- score), as SQLite's flows have them from schema 5 on (docs/calls.md). Older rows keep NULL.
ALTER TABLE flows ADD COLUMN call_certainty double precision;
ALTER TABLE flows ADD COLUMN call_reason text;
