-- Shows and their items: the things operators create through the API.

create table shows (
    id          uuid primary key default gen_random_uuid(),
    title       text not null check (length(title) between 1 and 500),
    status      text not null default 'scheduled'
                check (status in ('scheduled', 'live', 'ended')),
    started_at  timestamptz,
    ended_at    timestamptz,
    last_seq    bigint not null default 0 check (last_seq >= 0),
    created_at  timestamptz not null default now()
);

comment on table shows is 'A live-selling show: one live video whose comments claim items.';
comment on column shows.id is 'Show id (UUID), used in every API path.';
comment on column shows.title is 'Human title shown on the operator console.';
comment on column shows.status is 'scheduled, live or ended; only comments on a live show make claims.';
comment on column shows.started_at is 'When the show first went live (set by the service).';
comment on column shows.ended_at is 'When the show ended (set by the service).';
comment on column shows.last_seq is 'Highest seq written to show_changes for this show; bumped only by the change triggers (its row lock orders commits per show).';
comment on column shows.created_at is 'When the show was created.';

create index shows_created_at_idx on shows (created_at desc);

create table items (
    show_id      uuid not null references shows (id),
    item_number  integer not null check (item_number between 1 and 999999),
    title        text not null default '' check (length(title) <= 500),
    price_cents  bigint not null default 0 check (price_cents >= 0),
    quantity     integer not null default 1 check (quantity between 0 and 1000000),
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    primary key (show_id, item_number)
);

comment on table items is 'Items on sale in a show. A claimed number with no row here counts as quantity 1.';
comment on column items.show_id is 'The show the item is sold in.';
comment on column items.item_number is 'The number buyers type: "sold 101" claims item 101.';
comment on column items.title is 'Item description for operators.';
comment on column items.price_cents is 'Price in cents (minor currency units).';
comment on column items.quantity is 'Units available; claims beyond it are waitlisted.';
comment on column items.created_at is 'When the item was created.';
comment on column items.updated_at is 'When the item was last changed.';
