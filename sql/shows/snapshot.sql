-- The `initial` event of a stream, built in ONE statement: a statement sees one snapshot,
-- so seq and every list below are mutually consistent (what the contract's REPEATABLE READ
-- transaction is for), in one round trip. last_seq is the snapshot's S. Built as json, not
-- jsonb: the text is all we need, and skipping jsonb's binary form halves the query's time.
select s.last_seq as seq,
       json_build_object(
           'seq', s.last_seq,
           'show', to_json(s.*),
           'comment_count', (select count(*) from comments n where n.show_id = s.id),
           'comments', coalesce((
               select json_agg(to_json(c.*) order by c.created_at desc, c.id desc)
                 from (select * from comments
                        where show_id = s.id
                        order by created_at desc, id desc
                        limit $2) c), '[]'::json),
           'claims', coalesce((
               select json_agg(to_json(k.*) order by k.created_at, k.id)
                 from claims k where k.show_id = s.id), '[]'::json),
           'items', coalesce((
               select json_agg(to_json(i.*) order by i.item_number)
                 from items i where i.show_id = s.id), '[]'::json)
       )::text as body
  from shows s
 where s.id = $1
