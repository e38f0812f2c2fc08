-- The relay election's safety valve, run by a waiter each time its lock wait times out:
-- a holder whose session has sat idle (sent no look) for $2 seconds, far longer than any
-- look interval, is frozen (a stopped or stalled process, or a cut-off node whose
-- keepalives have not ended its session yet), and while it holds the lock no writer in
-- relay mode is rung for. End its session: the lock is free and the next waiter relays.
-- The holder is found by its lock (advisory locks on one bigint key are classid = the
-- high 32 bits, objid = the low 32, objsubid = 1), in this database only. Returns the
-- pids ended (none when the holder is alive). The candidates are a materialized CTE so
-- that pg_terminate_backend runs only on rows that passed every test (in one WHERE the
-- planner may call it first, and end a live relay).
with frozen as materialized (
select a.pid
  from pg_locks l
  join pg_stat_activity a on a.pid = l.pid
 where l.locktype = 'advisory'
   and l.granted
   and l.database = (select oid from pg_database where datname = current_database())
   and l.classid = (($1::bigint >> 32) & 4294967295)::oid
   and l.objid = ($1::bigint & 4294967295)::oid
   and l.objsubid = 1
   and a.state = 'idle'
   and a.state_change < now() - make_interval(secs => $2::float8)
)
select pid from frozen where pg_terminate_backend(pid)
