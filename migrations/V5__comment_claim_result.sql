-- What a comment's "sold N" did, stored with the comment so every reader (the POST answer,
-- GET .../comments, the snapshot, the feed) tells the same: claimed, waitlisted, or why not.

alter table comments add column claim_result jsonb
    check (claim_result is null
           or (jsonb_typeof(claim_result) = 'object'
               and claim_result->>'outcome' in ('claimed', 'waitlisted', 'refused')
               and jsonb_typeof(claim_result->'item_number') = 'number'));

comment on column comments.claim_result is 'What the comment''s "sold N" did, set by the API when it stored the comment: null when the text is not a claim (and for comments written with SQL, which make no claims), else {"outcome": "claimed" | "waitlisted" | "refused", "item_number": N, "waitlist_position": k (waitlisted), "reason": "already_holds" | "show_not_live" | "no_such_item" (refused)}.';

create index comments_show_claim_outcome_idx on comments (show_id, (claim_result->>'outcome'))
    where claim_result is not null;
