"""The EU-NATO exchange hub. Its folders are its layers; a module imports only from its own layer or below.

    0  hub/errors.py, hub/settings.py  the one exception root and the one settings object;
       hub/files.py                    bounded reads of the files an operator names
       hub/redact.py                   credentials hidden in logs and errors
    1  schemas/                        the contracts: pydantic models, JSON Schema, markings
    2  hub/core/                       the pure core: validate, trust, dedupe, policy, MISP rules, tag, route, decide
    3  hub/ledger/, hub/kafka/,        the durable record; Kafka clients, topics, publishing, the embedded
       hub/config/                     broker; the release policy file and the keyring and key files
    4  hub/worker/                     the engine that reads batches, decides them through the ledger, sends
    5  connectors/, hub/report/,       the edges: MISP, files, store and TAXII connectors, reports, audit,
       hub/audit/, hub/dashboard/,     the dashboard, the demo, STIX 2.1, the TAXII 2.1 server, and the
       hub/demo/, hub/stix/,           one web server that hosts the dashboard, TAXII and the inbox page
       hub/taxii/, hub/web/
    6  hub/cli/                        argument parsing and wiring only; nothing imports it

`tests/unit/test_layers.py` fails on any import that goes upward.
"""
