-- One row per show: how it went, for analysts (psql: select * from show_summary).
--
-- The counts here are THE definitions; the console and the client library count the same
-- way (README, "One definition of every count"):
--   comments   comment rows of the show
--   claims     every claim made (claim rows, any status: released ones too)
--   units_sold claims holding a unit now: claimed or paid
--   waitlisted claims waiting now
--   paid       claims paid
--   released   claims released (by an operator or in SQL)
-- Installed by migration V8 (V4 installed the first version, frozen in show_summary_v4.sql).
-- To change it: freeze this text as show_summary_v8.sql for V8, edit, and add a migration.
-- New columns go at the end: `create or replace view` may only add columns.
create or replace view show_summary as
select s.id as show_id,
       s.title,
       s.status,
       s.started_at,
       s.ended_at,
       coalesce(c.comments, 0) as comments,
       coalesce(k.claims, 0) as claims,
       round(coalesce(k.claims, 0)::numeric / nullif(c.comments, 0), 4) as claim_rate,
       coalesce(k.units_sold, 0) as units_sold,
       coalesce(k.revenue_cents, 0)::bigint as revenue_cents,
       coalesce(p.peak_comments_per_minute, 0) as peak_comments_per_minute,
       coalesce(k.waitlisted, 0) as waitlisted,
       coalesce(k.paid, 0) as paid,
       coalesce(k.released, 0) as released,
       s.currency
  from shows s
  left join (select show_id, count(*) as comments from comments group by show_id) c
         on c.show_id = s.id
  left join (select k.show_id,
                    count(*) as claims,
                    count(*) filter (where k.status in ('claimed', 'paid')) as units_sold,
                    count(*) filter (where k.status = 'waitlisted') as waitlisted,
                    count(*) filter (where k.status = 'paid') as paid,
                    count(*) filter (where k.status = 'released') as released,
                    sum(coalesce(i.price_cents, 0)) filter (where k.status = 'paid') as revenue_cents
               from claims k
               left join items i on i.show_id = k.show_id and i.item_number = k.item_number
              group by k.show_id) k
         on k.show_id = s.id
  left join (select show_id, max(n) as peak_comments_per_minute
               from (select show_id, date_trunc('minute', created_at) as minute, count(*) as n
                       from comments group by 1, 2) m
              group by show_id) p
         on p.show_id = s.id;

comment on view show_summary is 'Per show: comments, claims (every claim made, released ones included), claim rate, units sold (claimed or paid), revenue of paid claims at item prices, the busiest minute of comments, and the claims waitlisted, paid and released now.';
comment on column show_summary.claims is 'Every claim made in the show, whatever its status now (released ones included): the console''s Claims.';
comment on column show_summary.claim_rate is 'Claims per comment (0..1).';
comment on column show_summary.units_sold is 'Claims holding a unit: claimed or paid.';
comment on column show_summary.revenue_cents is 'Sum of item prices over paid claims (items without a row count 0), in the minor units of the show''s currency.';
comment on column show_summary.peak_comments_per_minute is 'Comments in the busiest calendar minute (platform time).';
comment on column show_summary.waitlisted is 'Claims waiting for a unit now.';
comment on column show_summary.paid is 'Claims paid.';
comment on column show_summary.released is 'Claims released (their unit went back or to the next buyer in line).';
comment on column show_summary.currency is 'ISO 4217 code of the show''s prices.';
