"""The local stack: real Mosquitto and InfluxDB processes for machines without Docker."""

from stack.services import Influxd, Mosquitto, Service, ServiceError, free_port

__all__ = ["Influxd", "Mosquitto", "Service", "ServiceError", "free_port"]
