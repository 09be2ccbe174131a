"""The `hub` command: one module per subcommand group, registered in `main.py`; `inputs.py` reads files,
`spool.py` keeps validated items on disk until `hub publish` sends them."""
