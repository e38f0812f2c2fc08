insert into claims (show_id, item_number, comment_id, buyer_id, buyer_name, status, waitlist_position)
select $1, u.item_number, u.comment_id, u.buyer_id, u.buyer_name, u.status, u.waitlist_position
  from unnest($2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[])
       with ordinality as u (item_number, comment_id, buyer_id, buyer_name, status, waitlist_position, ord)
 order by u.ord
returning id, show_id, item_number, comment_id, buyer_id, buyer_name, status, waitlist_position,
          created_at, updated_at
