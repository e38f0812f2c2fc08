-- The comments of a batch that the show does not have yet, with the ids and claim results
-- the service gave them (it decided the claims before the insert, under the show's lock,
-- so the comment's own change event carries its claim_result).
insert into comments (id, show_id, external_id, author_id, author_name, text, created_at,
                      claim_result)
select u.id, $1, u.external_id, u.author_id, u.author_name, u.text,
       coalesce(u.created_at, now()), u.claim_result
  from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
              $8::jsonb[])
       with ordinality as u (id, external_id, author_id, author_name, text, created_at,
                             claim_result, ord)
 order by u.ord
on conflict (show_id, external_id) do nothing
returning id, show_id, external_id, author_id, author_name, text, created_at, received_at,
          claim_result
