-- The claims these comments of a show made, as they are now (re-posts answer with them).
select k.id, k.show_id, k.item_number, k.comment_id, k.buyer_id, k.buyer_name, k.status,
       k.waitlist_position, k.created_at, k.updated_at
  from claims k
 where k.show_id = $1
   and k.comment_id = any($2::uuid[])
 order by k.created_at, k.id
