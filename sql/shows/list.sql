select s.id, s.title, s.status, s.started_at, s.ended_at, s.last_seq, s.created_at, s.currency
  from shows s
 where $1::uuid[] is null or s.id = any ($1)
 order by s.created_at desc
 limit $2
