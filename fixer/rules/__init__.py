"""fixer rules: one module per rule ID (see fixer.registry for the order they run in)."""
