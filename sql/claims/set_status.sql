update claims set status = $2, updated_at = now() where id = $1
returning to_jsonb(claims.*) as claim
