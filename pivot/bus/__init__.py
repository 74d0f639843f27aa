"""The Kafka bus: topic names, the CloudEvents envelope, producer, consumer loop, admin."""
