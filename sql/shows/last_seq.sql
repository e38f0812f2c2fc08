select s.last_seq from shows s where s.id = $1
