"""The `hub` command: one module per subcommand group, registered in `main.py`; `inputs.py` reads files."""
