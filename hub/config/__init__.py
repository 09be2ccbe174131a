"""Configuration files read from disk: the release policy and the keyring with its key files.

policy_file.py  the release policy in TOML, per destination; fails closed
keystore.py     the keyring file, private key files, `hub keys new`, the publisher's signer
"""
