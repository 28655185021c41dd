"""SQLite with write transactions queued on a file lock (see base.py)."""
