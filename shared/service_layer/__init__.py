"""Use cases shared by the services: projecting events into snapshots, reading progress."""
