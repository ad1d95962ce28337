"""The insights consumer: keeps the course insights from `progress.changes`."""
