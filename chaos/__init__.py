"""`make chaos`: a fault and fuzz campaign against a private embedded stack (issue 14)."""
