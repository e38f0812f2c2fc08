-- Promotes the lowest waitlist positions of an item while units remain (claimed and paid
-- claims hold units; an item with no row has one unit). Never demotes.
update claims
   set status = 'claimed', updated_at = now()
 where id in (
       select w.id from claims w
        where w.show_id = $1 and w.item_number = $2 and w.status = 'waitlisted'
        order by w.waitlist_position
        limit greatest(0,
              coalesce((select i.quantity from items i
                         where i.show_id = $1 and i.item_number = $2), 1)
              - (select count(*) from claims h
                  where h.show_id = $1 and h.item_number = $2
                    and h.status in ('claimed', 'paid'))))
returning id, show_id, item_number, comment_id, buyer_id, buyer_name, status, waitlist_position,
          created_at, updated_at
