insert into comments (show_id, external_id, author_id, author_name, text, created_at)
select $1, u.external_id, u.author_id, u.author_name, u.text, coalesce(u.created_at, now())
  from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
       with ordinality as u (external_id, author_id, author_name, text, created_at, ord)
 order by u.ord
on conflict (show_id, external_id) do nothing
returning id, show_id, external_id, author_id, author_name, text, created_at, received_at
