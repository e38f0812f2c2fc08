-- Exchanges a sign-in code for a session, in one statement: the code's row is deleted
-- (a concurrent second redemption waits on the row lock and then finds nothing), and a
-- session is made from it only if it had not expired. $1 the code's bytes, $2 the new
-- session id's bytes, $3 the session's absolute lifetime in seconds.
with used as (
    delete from signin_codes where code_hash = sha256($1::bytea)
    returning sub, role, shows, expires_at
)
insert into sessions (id_hash, sub, role, shows, expires_at)
select sha256($2::bytea), sub, role, shows, now() + $3::float8 * interval '1 second'
from used
where used.expires_at > now()
returning sub, role, shows, created_at, last_seen, expires_at, now() as now
