select s.status from shows s where s.id = $1 for update
