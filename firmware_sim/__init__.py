"""Simulated homes: residents with a daily rhythm, seen through Zigbee2MQTT devices.

The simulator is the test bench of Dagritme and doubles as the fake device:

- `personas`: who lives there (early riser, night owl, ...) and which sensors the home has;
- `routine`: the resident's seeded, stochastic day as stays in rooms;
- `scenarios`: anomalies injected at a day and time (fall, not up, night wandering, ...)
  with their ground truth;
- `devices`, `sensing`, `z2m`: what Aqara, IKEA and Philips sensors notice and publish;
- `home.SimulatedHome`: the public face (`devices`, `messages()`, `events()`);
- `publisher.publish_homes`: play homes to a real broker on an injected (accelerated) clock;
- `load`: render thousands of homes in worker processes;
- `output`: write datasets (DESIGN.md format) plus `ground_truth.jsonl`;
- `calibration`: compare simulated and real homes on sensor-independent figures.

>>> from datetime import UTC, datetime, timedelta
>>> from firmware_sim import SimulatedHome, persona
>>> home = SimulatedHome("hh-doc", persona("sparse"), seed=1)
>>> [d.sensor for d in home.devices]
['bedroom_motion', 'bathroom_motion', 'kitchen_motion', 'front_door']
>>> start = datetime(2026, 1, 5, tzinfo=UTC)
>>> events = list(home.events(start, start + timedelta(days=1)))
>>> events == list(SimulatedHome("hh-doc", persona("sparse"), seed=1).events(
...     start, start + timedelta(days=1)))
True
"""

from firmware_sim.devices import DeviceSpec
from firmware_sim.home import Noise, SimulatedHome
from firmware_sim.personas import PERSONAS, Persona, persona
from firmware_sim.scenarios import SCENARIOS, Injection, parse_scenario
from firmware_sim.z2m import Z2MMessage

__all__ = [
    "PERSONAS",
    "SCENARIOS",
    "DeviceSpec",
    "Injection",
    "Noise",
    "Persona",
    "SimulatedHome",
    "Z2MMessage",
    "parse_scenario",
    "persona",
]
