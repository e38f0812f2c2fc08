-- Sign-out: the session is gone for every node at once.
delete from sessions where id_hash = sha256($1::bytea)
