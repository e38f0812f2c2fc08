insert into items (show_id, item_number, title, price_cents, quantity)
values ($1, $2, $3, $4, $5)
on conflict (show_id, item_number) do update
   set title = excluded.title,
       price_cents = excluded.price_cents,
       quantity = excluded.quantity,
       updated_at = now()
returning show_id, item_number, title, price_cents, quantity, created_at, updated_at,
          (xmax = 0) as created
