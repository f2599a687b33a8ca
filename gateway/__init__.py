"""The home gateway: Zigbee2MQTT on the home broker in, canonical events to the central broker.

Modules: `config` (GatewayConfig, DeviceMapping, Sharing), `z2m` (Z2MNormaliser, the pure
core), `outbox` (the SQLite store-and-forward queue), `service` (Gateway, the running
service), `edge` (LocalDetector hook, daily summaries), `cli` and `bench`.
Only the core dependencies are imported (pydantic, paho-mqtt, aiomqtt): it runs on a Pi.
"""
