select to_jsonb(k.*) as claim from claims k where k.show_id = $1 order by k.created_at, k.id
