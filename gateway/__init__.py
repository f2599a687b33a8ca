"""The home gateway: home-broker sensors in, canonical events to the central broker.

Modules: `config` (GatewayConfig, DeviceMapping, Sharing); `sources` (per-firmware topic
routes and payload readers: `sources.z2m`, `sources.tasmota`, `sources.shelly`);
`normaliser` (Normaliser, the pure protocol-neutral core) with `health` and `rejects`;
`outbox` (the SQLite store-and-forward queue) and `queue_thread`; `home` and `upstream`
(the two broker sessions); `service` (Gateway, the composition root); `edge` (LocalDetector
hook, daily summaries); `cli` and `bench`.
Only the core dependencies are imported (pydantic, paho-mqtt, aiomqtt): it runs on a Pi.
"""
