"""fixer rules: one module per rule ID (see codemods.registry for the order they run in)."""
