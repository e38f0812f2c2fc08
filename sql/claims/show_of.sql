select k.show_id from claims k where k.id = $1
