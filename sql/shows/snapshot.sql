-- The `initial` event of a stream, built in ONE statement: a statement sees one snapshot,
-- so seq and every list below are mutually consistent (what the contract's REPEATABLE READ
-- transaction is for), in one round trip. last_seq is the snapshot's S.
select s.last_seq as seq,
       jsonb_build_object(
           'seq', s.last_seq,
           'show', to_jsonb(s.*),
           'comment_count', (select count(*) from comments n where n.show_id = s.id),
           'comments', coalesce((
               select jsonb_agg(to_jsonb(c.*) order by c.created_at desc, c.id desc)
                 from (select * from comments
                        where show_id = s.id
                        order by created_at desc, id desc
                        limit $2) c), '[]'::jsonb),
           'claims', coalesce((
               select jsonb_agg(to_jsonb(k.*) order by k.created_at, k.id)
                 from claims k where k.show_id = s.id), '[]'::jsonb),
           'items', coalesce((
               select jsonb_agg(to_jsonb(i.*) order by i.item_number)
                 from items i where i.show_id = s.id), '[]'::jsonb)
       )::text as body
  from shows s
 where s.id = $1
