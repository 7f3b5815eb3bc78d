-- schema version 5: how sure the pick of a flow as a call is, and why. A rule's call has
-- certainty 1 and the rule's file:line as its reason; a call of the call classifier its
-- probability and score (docs/calls.md). Rows of older versions keep NULL: shown as unknown.
ALTER TABLE flows ADD COLUMN call_certainty REAL;
ALTER TABLE flows ADD COLUMN call_reason TEXT;
