select to_jsonb(s.*) as show
  from shows s
 where $1::uuid[] is null or s.id = any ($1)
 order by s.created_at desc
 limit $2
