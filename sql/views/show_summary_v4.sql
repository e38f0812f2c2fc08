-- One row per show: how it went, for analysts (psql: select * from show_summary).
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
       coalesce(p.peak_comments_per_minute, 0) as peak_comments_per_minute
  from shows s
  left join (select show_id, count(*) as comments from comments group by show_id) c
         on c.show_id = s.id
  left join (select k.show_id,
                    count(*) as claims,
                    count(*) filter (where k.status in ('claimed', 'paid')) as units_sold,
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

comment on view show_summary is 'Per show: comments, claims, claim rate, units sold (claimed or paid), revenue of paid claims at item prices, and the busiest minute of comments.';
comment on column show_summary.claim_rate is 'Claims per comment (0..1).';
comment on column show_summary.units_sold is 'Claims holding a unit: claimed or paid.';
comment on column show_summary.revenue_cents is 'Sum of item prices over paid claims (items without a row count 0).';
comment on column show_summary.peak_comments_per_minute is 'Comments in the busiest calendar minute (platform time).';
