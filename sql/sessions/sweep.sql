-- Deletes sessions past their absolute end or idle longer than $1 seconds, and expired
-- sign-in codes (run at each sign-in, so the tables hold only what can still be used).
with codes as (delete from signin_codes where expires_at <= now())
delete from sessions
where expires_at <= now() or last_seen <= now() - $1::float8 * interval '1 second'
