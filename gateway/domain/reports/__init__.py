"""Work reports: the periods they cover and when each is due (schedule)."""
