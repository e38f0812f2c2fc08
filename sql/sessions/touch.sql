-- Marks a session used now (done at most about once a minute per session, not per request).
update sessions set last_seen = now()
where id_hash = sha256($1::bytea)
returning last_seen
