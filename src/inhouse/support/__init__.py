"""Play 5, support and governance: the support queue and its tickets (who built what broke,
measured from the log), imports from where the team keeps tickets, the inventory of what every
runtime serves and its drift from the lock, and the periodic review."""
