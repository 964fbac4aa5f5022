"""Imports (issue 15): a record type declares its import once (an `Importer` registered from the
app's registrations.py), every row is validated through the record type's form with the user's
scope, and the file is read, checked (dry run), imported and undone by kehu/core/imports/engine.py.
See docs/architecture.md, "Imports"."""
