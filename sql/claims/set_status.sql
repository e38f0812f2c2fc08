update claims set status = $2, updated_at = now() where id = $1
returning id, show_id, item_number, comment_id, buyer_id, buyer_name, status, waitlist_position,
          created_at, updated_at
