"""Account, DNC and payment imports from CSV and XLSX files (see docs/import.md)."""
