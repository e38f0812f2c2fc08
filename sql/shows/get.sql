select s.id, s.title, s.status, s.started_at, s.ended_at, s.last_seq, s.created_at, s.currency
  from shows s
 where s.id = $1
