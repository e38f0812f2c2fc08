-- The relay's look: which shows have rows whose writer rang no doorbell and that became
-- visible since the relay's previous snapshot ($1, as text; null on its first look, which
-- reports none: the caller rings "look at the log" instead), and the snapshot this
-- statement reads with, to pass as $1 next time.
--
-- A row was not visible in $1 when its transaction id is at or above $1's xmax (not yet
-- started then) or in $1's in-progress list; that is exact however transactions
-- interleave their commits, and both conditions are index lookups on the rows written
-- since, however old $1's xmin is (a long transaction does not make each look slower).
-- pg_current_snapshot() is the statement's own snapshot, the one the scan reads with.
-- lag_seconds: from the oldest of those rows' transaction start to this look.
with seen as (select ($1::text)::pg_snapshot as snap),
fresh as (
    select c.show_id, c.committed_at
      from show_changes c, seen
     where c.relay_xid is not null
       and seen.snap is not null
       and (c.relay_xid >= pg_snapshot_xmax(seen.snap)
            or c.relay_xid = any (array(select pg_snapshot_xip(seen.snap))))
)
select pg_current_snapshot()::text as snapshot,
       array(select distinct f.show_id::text from fresh f) as shows,
       extract(epoch from now() - (select min(f.committed_at) from fresh f))::float8 as lag_seconds
