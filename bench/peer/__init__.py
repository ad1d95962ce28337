"""The bench's peer: the projector's reduction as a Quix Streams application, and its section.

`folding` (the per-message step) and `__main__` (the Quix application) run in the peer's own
venv; `drain` and `report` run in the bench's, and start the peer as a process.
"""
