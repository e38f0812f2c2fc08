select to_jsonb(i.*) as item from items i where i.show_id = $1 order by i.item_number
