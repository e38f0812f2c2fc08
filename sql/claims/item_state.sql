-- What the claim rules need to know about some items of a show, under the show's lock:
-- units, units held (claimed or paid), the last waitlist position, and which of the
-- buyers $3 hold a live claim. Each is an index probe whatever the waitlist's length:
-- held counts through claims_held_idx, the last position is the top of
-- claims_waitlist_position_idx, each buyer's live claim is one probe of claims_one_live_per_buyer_idx
-- (per buyer, not a scan of the item's live buyers, which a plan made with stale
-- statistics would otherwise filter).
select n.item_number,
       coalesce((select i.quantity from items i
                  where i.show_id = $1 and i.item_number = n.item_number), 1)::bigint as quantity,
       (select count(*) from claims k
         where k.show_id = $1 and k.item_number = n.item_number
           and k.status in ('claimed', 'paid')) as held,
       (select coalesce(max(k.waitlist_position), 0) from claims k
         where k.show_id = $1 and k.item_number = n.item_number
           and k.waitlist_position is not null)::bigint as last_position,
       (select coalesce(array_agg(b.buyer_id), '{}') from unnest($3::text[]) as b (buyer_id)
         where exists (select 1 from claims k
                        where k.show_id = $1 and k.item_number = n.item_number
                          and k.status in ('claimed', 'waitlisted')
                          and k.buyer_id = b.buyer_id)) as live_buyers
  from unnest($2::int[]) as n (item_number)
