-- The watchdog: other showfeed listener sessions of this database that have not finished
-- a round trip for $1 seconds. A healthy listener pings every few seconds, so such a
-- session belongs to a frozen (SIGSTOP) or cut-off node; it no longer consumes the
-- cluster-wide NOTIFY queue, and once the queue is full every notifying commit fails.
-- Terminating the backend frees its place in the queue.
select a.pid,
       coalesce(a.client_addr::text, 'local') as client,
       a.state,
       coalesce(a.wait_event, '') as wait_event,
       extract(epoch from now() - a.state_change)::float8 as silent_secs,
       pg_terminate_backend(a.pid) as terminated
  from pg_stat_activity a
 where a.application_name = 'showfeed-listener'
   and a.datname = current_database()
   and a.pid <> pg_backend_pid()
   and a.state_change < now() - make_interval(secs => $1)
