from __future__ import annotations

import pytest

from dagritme import topics
from dagritme.topics import Channel, TopicError


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (topics.events("hh-1"), topics.Topic("hh-1", Channel.EVENTS)),
        (topics.alerts("hh-1"), topics.Topic("hh-1", Channel.ALERTS)),
        (topics.gateway_status("hh-1"), topics.Topic("hh-1", Channel.GATEWAY_STATUS)),
        (topics.gateway_heartbeat("hh-1"), topics.Topic("hh-1", Channel.GATEWAY_HEARTBEAT)),
        (
            topics.device_health("hh-1", "Kitchen.pir"),
            topics.Topic("hh-1", Channel.DEVICE_HEALTH, "Kitchen.pir"),
        ),
        (topics.feedback("hh-1"), topics.Topic("hh-1", Channel.FEEDBACK)),
        (topics.summaries("hh-1"), topics.Topic("hh-1", Channel.SUMMARIES)),
        (topics.detector_status("hh-1"), topics.Topic("hh-1", Channel.DETECTOR_STATUS)),
    ],
)
def test_built_topics_parse_back(built: str, expected: topics.Topic) -> None:
    assert topics.parse(built) == expected


@pytest.mark.parametrize("household", ["", "Has Space", "a/b", "+", "#", "UPPER", "x" * 65])
def test_household_ids_that_would_break_topics_are_refused(household: str) -> None:
    with pytest.raises(TopicError):
        topics.events(household)


@pytest.mark.parametrize(
    "topic",
    [
        "zigbee2mqtt/kitchen",
        "dagritme/v2/hh/events",
        "dagritme/v1/hh/nope",
        "dagritme/v1/hh/devices/health",
        "dagritme/v1/hh/devices/a+b/health",
        "dagritme/v1/hh/detector",
        "dagritme/v1/hh/detector/state",
    ],
)
def test_foreign_topics_are_refused(topic: str) -> None:
    with pytest.raises(TopicError):
        topics.parse(topic)


def test_subscriptions_use_single_level_wildcards() -> None:
    assert topics.subscription(Channel.EVENTS) == "dagritme/v1/+/events"
    assert topics.subscription(Channel.DEVICE_HEALTH, "hh") == "dagritme/v1/hh/devices/+/health"


def test_detector_status_topic_and_subscription() -> None:
    assert topics.detector_status("hh-1") == "dagritme/v1/hh-1/detector/status"
    assert topics.subscription(Channel.DETECTOR_STATUS) == "dagritme/v1/+/detector/status"
