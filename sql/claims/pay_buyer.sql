-- Marks every unit a buyer holds unpaid (claimed) on a show paid, in one statement; the
-- caller holds the show's lock. Claims already paid, released or waitlisted are untouched.
update claims
   set status = 'paid', updated_at = now()
 where show_id = $1 and buyer_id = $2 and status = 'claimed'
returning id, show_id, item_number, comment_id, buyer_id, buyer_name, status, waitlist_position,
          created_at, updated_at
