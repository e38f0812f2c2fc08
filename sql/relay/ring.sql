-- The relay's doorbell: one NOTIFY per payload (each a comma-separated list of show ids
-- under the 8000-byte limit, or "*": look at every show), all in one transaction, so one
-- notifying commit rings for a whole batch of writers' changes.
select pg_notify('show_changes', p) from unnest($1::text[]) as p
