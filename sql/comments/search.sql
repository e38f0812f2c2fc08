-- A page of a show's comments that match every filter given (null: no filter), newest first,
-- continuing after comment $2. $4 is an ILIKE pattern with its own % and _ escaped (the
-- caller builds it), $5 an author id, $6 'claims' (the comment made a claim) or
-- 'unclaimed_sold' (it read as a claim and made none). Run unprepared, so Postgres plans it
-- with the values: a null filter folds away and the trigram index serves a text search.
select c.id, c.show_id, c.external_id, c.author_id, c.author_name, c.text, c.created_at,
       c.received_at, c.claim_result
  from comments c
 where c.show_id = $1
   and ($2::uuid is null
        or (c.created_at, c.id) < (select b.created_at, b.id from comments b
                                    where b.id = $2 and b.show_id = $1))
   and ($4::text is null or c.text ilike $4 escape '\')
   and ($5::text is null or c.author_id = $5)
   and ($6::text is null
        or ($6 = 'claims' and c.claim_result->>'outcome' in ('claimed', 'waitlisted'))
        or ($6 = 'unclaimed_sold' and c.claim_result->>'outcome' = 'refused'))
 order by c.created_at desc, c.id desc
 limit $3
