-- The relay election: the session that holds this advisory lock is the database's relay.
-- Waits up to the session's lock_timeout for a holder to go, then fails with 55P03.
select pg_advisory_lock($1)
