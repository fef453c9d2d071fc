"""MQTT in: topic and payload decoding, validation, the batching writer and dead letters."""
