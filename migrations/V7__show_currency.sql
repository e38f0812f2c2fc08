-- The currency of a show's prices, for the console and for invoices (carts.csv).

alter table shows add column currency text not null default 'USD'
    check (currency ~ '^[A-Z]{3}$');

comment on column shows.currency is 'ISO 4217 code of the show''s prices (items.price_cents are in its minor units); the API checks it against the active codes and defaults it to DEFAULT_CURRENCY.';

-- A change of currency is a change of the show, streamed as show.updated like the others.
drop trigger shows_update_changes on shows;
create trigger shows_update_changes after update of title, status, started_at, ended_at, currency
    on shows
    for each row
    when ((old.title, old.status, old.started_at, old.ended_at, old.currency)
          is distinct from (new.title, new.status, new.started_at, new.ended_at, new.currency))
    execute function showfeed_record_show_change();
