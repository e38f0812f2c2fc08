-- The stored comments of a show with these external ids (re-posts answer with them).
select c.id, c.show_id, c.external_id, c.author_id, c.author_name, c.text, c.created_at,
       c.received_at, c.claim_result
  from comments c
 where c.show_id = $1
   and c.external_id = any($2::text[])
