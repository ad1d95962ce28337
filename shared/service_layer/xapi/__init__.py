"""The xAPI use cases: storing and reading statements, and State documents, over ports."""
