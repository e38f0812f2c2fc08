-- The claim rules count an item's held units (claimed or paid) on every claim. Through
-- claims_show_idx that count visits every claim of the item, waitlisted ones too, so a
-- hot item's long waitlist made each new claim slower. This index holds only the held
-- claims: at most the item's units, plus paid ones.
create index claims_held_idx on claims (show_id, item_number) where status in ('claimed', 'paid');
