-- The doorbell mode, and who holds the relay lock ($1) now, if anyone.
select d.mode, d.changed_at::text, d.changed_by,
       a.pid, a.application_name, host(a.client_addr) as client_addr, a.backend_start::text
  from showfeed_doorbell d
  left join pg_locks l
    on l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
   and l.classid::bigint = ($1::bigint >> 32) and l.objid::bigint = ($1::bigint & 4294967295) and l.objsubid = 1
  left join pg_stat_activity a on a.pid = l.pid
