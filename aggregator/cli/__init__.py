"""bin/counters: the one command-line tool for instances and ops."""
