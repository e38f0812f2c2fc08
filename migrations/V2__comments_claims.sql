-- Comments posted by the platform connector, and the claims derived from them.

create table comments (
    id           uuid primary key default gen_random_uuid(),
    show_id      uuid not null references shows (id),
    external_id  text not null check (length(external_id) between 1 and 200),
    author_id    text not null check (length(author_id) between 1 and 200),
    author_name  text not null check (length(author_name) <= 200),
    text         text not null,
    created_at   timestamptz not null default now(),
    received_at  timestamptz not null default now(),
    unique (show_id, external_id)
);

comment on table comments is 'Every comment of a show, as posted by the platform connector (or written with SQL).';
comment on column comments.id is 'Comment id (UUID).';
comment on column comments.show_id is 'The show the comment was made on.';
comment on column comments.external_id is 'The platform''s id of the comment; unique per show, so re-posting is a no-op.';
comment on column comments.author_id is 'The platform''s id of the commenter.';
comment on column comments.author_name is 'Display name of the commenter (untrusted text).';
comment on column comments.text is 'The comment text (untrusted text).';
comment on column comments.created_at is 'When the comment was made, in platform time.';
comment on column comments.received_at is 'When showfeed stored it.';

create index comments_show_newest_idx on comments (show_id, created_at desc, id desc);

create table claims (
    id                uuid primary key default gen_random_uuid(),
    show_id           uuid not null references shows (id),
    item_number       integer not null check (item_number between 1 and 999999),
    comment_id        uuid references comments (id) on delete set null,
    buyer_id          text not null check (length(buyer_id) between 1 and 200),
    buyer_name        text not null check (length(buyer_name) <= 200),
    status            text not null check (status in ('claimed', 'waitlisted', 'released', 'paid')),
    waitlist_position integer check (waitlist_position > 0),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    check (status <> 'waitlisted' or waitlist_position is not null)
);

comment on table claims is 'A buyer''s claim on an item, derived from a "sold N" comment on a live show.';
comment on column claims.id is 'Claim id (UUID).';
comment on column claims.show_id is 'The show the claim belongs to.';
comment on column claims.item_number is 'The claimed item number (items.item_number; may have no items row).';
comment on column claims.comment_id is 'The comment that made the claim.';
comment on column claims.buyer_id is 'The platform id of the buyer (comments.author_id).';
comment on column claims.buyer_name is 'Display name of the buyer (untrusted text).';
comment on column claims.status is 'claimed (holds a unit), waitlisted, released, or paid (terminal).';
comment on column claims.waitlist_position is 'Place in the item''s waitlist (1, 2, ...); kept after promotion, never renumbered.';
comment on column claims.created_at is 'When the claim was made.';
comment on column claims.updated_at is 'When the claim status last changed.';

create index claims_show_idx on claims (show_id, item_number, created_at);
create unique index claims_one_live_per_buyer_idx on claims (show_id, item_number, buyer_id)
    where status in ('claimed', 'waitlisted');
create unique index claims_waitlist_position_idx on claims (show_id, item_number, waitlist_position)
    where waitlist_position is not null;
