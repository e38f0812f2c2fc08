-- A claim's row, locked, with what a status change or an undo checks: its show, item,
-- status, buyer, and how long ago it last changed (by the database's clock).
select k.show_id, k.item_number, k.status, k.buyer_id,
       extract(epoch from now() - k.updated_at)::float8 as changed_secs_ago
  from claims k
 where k.id = $1
   for update
