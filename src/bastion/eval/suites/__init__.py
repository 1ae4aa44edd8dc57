"""The built-in evaluation suites, one module per failure mode."""
