-- The live session of a cookie: $1 the session id's bytes, $2 the idle timeout in seconds.
-- Expired and idle-ended sessions are not found. One primary-key lookup.
select sub, role, shows, created_at, last_seen, expires_at, now() as now
from sessions
where id_hash = sha256($1::bytea)
  and expires_at > now()
  and last_seen > now() - $2::float8 * interval '1 second'
