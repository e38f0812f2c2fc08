-- What the claim rules need to know about some items of a show, under the show's lock:
-- units, units held (claimed or paid), the last waitlist position, live buyers.
select n.item_number,
       coalesce((select i.quantity from items i
                  where i.show_id = $1 and i.item_number = n.item_number), 1)::bigint as quantity,
       (select count(*) from claims k
         where k.show_id = $1 and k.item_number = n.item_number
           and k.status in ('claimed', 'paid')) as held,
       (select coalesce(max(k.waitlist_position), 0) from claims k
         where k.show_id = $1 and k.item_number = n.item_number)::bigint as last_position,
       (select coalesce(array_agg(k.buyer_id), '{}') from claims k
         where k.show_id = $1 and k.item_number = n.item_number
           and k.status in ('claimed', 'waitlisted')) as live_buyers
  from unnest($2::int[]) as n (item_number)
