"""Use cases: what Progress Sync does, over the ports in `ports.py` (no driver code here)."""
