"""An import-linter contract type that lists what modules MAY import, not what they may not.

A `forbidden` contract misses every library nobody thought to list; an allow-list fails on
the first import it does not name. Registered in pyproject.toml as the `allowlist` type.
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

__all__ = ["AllowListContract"]


class AllowListContract(Contract):
    """The source packages import only the standard library and `allowed_modules`.

    Options: `source_modules` (packages, descendants included) and `allowed_modules`
    (top-level external packages, or internal packages with their descendants).
    """

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        """Kept when every direct import of a source module is allowed; else names each one."""
        allowed = [module.name for module in self.allowed_modules]  # type: ignore[attr-defined]
        stray: list[tuple[str, str, list[int]]] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            for importer in sorted({source.name} | graph.find_descendants(source.name)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if _allowed(imported, allowed):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    stray.append((importer, imported, [d["line_number"] for d in details]))
        output.verbose_print(verbose, f"{len(stray)} import(s) outside the allow-list.")
        return ContractCheck(kept=not stray, metadata={"stray": stray})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """One line per import outside the allow-list, with its line numbers."""
        for importer, imported, lines in check.metadata["stray"]:
            where = ", ".join(f"l.{line}" for line in lines) or "?"
            output.print_error(f"{importer} -> {imported} ({where}) is not allowed")
            output.new_line()


def _allowed(module: str, allowed: list[str]) -> bool:
    """The standard library, or an allowed package or one of its descendants."""
    if module.split(".")[0] in sys.stdlib_module_names:
        return True
    return any(module == name or module.startswith(f"{name}.") for name in allowed)
