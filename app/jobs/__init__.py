"""Scheduled jobs, run by `flask clea scheduler` in a process of their own (never in the web
workers). Each job takes a database lock (jobs/locks.py), so starting two schedulers is safe."""
