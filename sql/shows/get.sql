select to_jsonb(s.*) as show from shows s where s.id = $1
