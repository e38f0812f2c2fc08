select k.show_id, k.item_number, k.status from claims k where k.id = $1 for update
