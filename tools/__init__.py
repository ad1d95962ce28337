"""Development tooling that runs beside the code (import-linter's own contract types)."""
