-- One row per claimed item: where its claims ended up, and how long selling took.
create or replace view item_claim_funnel as
select k.show_id,
       k.item_number,
       i.title as item_title,
       i.price_cents,
       coalesce(i.quantity, 1) as quantity,
       count(*) as claims,
       count(*) filter (where k.status = 'claimed') as claimed,
       count(*) filter (where k.status = 'waitlisted') as waitlisted,
       count(*) filter (where k.status = 'released') as released,
       count(*) filter (where k.status = 'paid') as paid,
       min(k.created_at) as first_claim_at,
       min(k.updated_at) filter (where k.status = 'paid') as first_paid_at,
       min(k.updated_at) filter (where k.status = 'paid') - min(k.created_at) as first_claim_to_paid
  from claims k
  left join items i on i.show_id = k.show_id and i.item_number = k.item_number
 group by k.show_id, k.item_number, i.title, i.price_cents, i.quantity;

comment on view item_claim_funnel is 'Per claimed item: claims by status (claimed, waitlisted, released, paid) and the time from its first claim to its first payment.';
comment on column item_claim_funnel.first_claim_to_paid is 'Interval from the first claim on the item to the first claim marked paid.';
