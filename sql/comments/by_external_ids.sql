-- The stored comments of a show with these external ids (re-posts answer with them).
-- One unique-index probe per id: written as a lateral lookup per id so that no plan can
-- read the show's comments by show_id alone and filter (a cached plan made while the table
-- was small did exactly that, and a hot show has all the comments).
select c.id, c.show_id, c.external_id, c.author_id, c.author_name, c.text, c.created_at,
       c.received_at, c.claim_result
  from unnest($2::text[]) as e (external_id)
 cross join lateral (
       select x.* from comments x
        where x.show_id = $1 and x.external_id = e.external_id) c
