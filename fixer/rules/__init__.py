"""fixer rules: one module per rule ID (see fixer.rules.registry for the order they run in)."""
