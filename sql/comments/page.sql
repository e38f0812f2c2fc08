select c.id, c.show_id, c.external_id, c.author_id, c.author_name, c.text, c.created_at,
       c.received_at, c.claim_result
  from comments c
 where c.show_id = $1
   and ($2::uuid is null
        or (c.created_at, c.id) < (select b.created_at, b.id from comments b
                                    where b.id = $2 and b.show_id = $1))
 order by c.created_at desc, c.id desc
 limit $3
