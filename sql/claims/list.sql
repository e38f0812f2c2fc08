select k.id, k.show_id, k.item_number, k.comment_id, k.buyer_id, k.buyer_name, k.status,
       k.waitlist_position, k.created_at, k.updated_at
  from claims k
 where k.show_id = $1
 order by k.created_at, k.id
