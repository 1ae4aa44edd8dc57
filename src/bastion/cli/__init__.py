"""The ``bastion`` command line (typer + rich).

Commands live in small modules (``check``, ``policy_cmd``, ``info``, ``demo``); heavy
dependencies (the guard, rich tables and progress bars, pyarrow, YAML) are imported inside
the commands that need them so that ``bastion check "hi"`` starts fast. Nothing in
bastion imports this package; it only uses the public APIs of the others.
"""
