select i.show_id, i.item_number, i.title, i.price_cents, i.quantity, i.created_at, i.updated_at
  from items i
 where i.show_id = $1
 order by i.item_number
