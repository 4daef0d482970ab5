"""Which addresses a webhook may reach (pure rules; numeric spellings resolved by the C library, no DNS)."""

from __future__ import annotations

import ipaddress

import pytest

from workers.errors import WebhookRefused, WebhookUnresolvable
from workers.webhooks.target import Allowlist, IPAddress, check_target, refusal

INTERNAL = ["127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
            "100.64.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "198.18.0.1",
            "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1", "::ffff:127.0.0.1",
            "::ffff:169.254.169.254", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1",
            "2002:7f00:1::1", "2002:a9fe:a9fe::1", "::7f00:1", "2001:db8::1", "100::1"]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2001:4860:4860::8888",
          "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("text", INTERNAL)
def test_internal_addresses_are_refused(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize("text", PUBLIC)
def test_public_unicast_addresses_pass(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is None


# every spelling of loopback / the host itself / the metadata address the C library accepts
SPELLINGS = ["127.0.0.1", "localhost", "LOCALHOST.", "hooks.localhost", "127.1", "127.0.1", "2130706433",
             "0x7f000001", "0177.0.0.1", "0x7f.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
             "[0:0:0:0:0:0:0:1]", "0.0.0.0", "0",
             "[::]", "169.254.169.254", "2852039166", "[fe80::1]", "[64:ff9b::7f00:1]", "[::ffff:a9fe:a9fe]"]


@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_is_refused_and_names_the_field(host: str) -> None:
    with pytest.raises(WebhookRefused) as caught:
        check_target(f"http://{host}:8080/hook", Allowlist(), field="--webhook")
    assert caught.value.code == "webhook_target_refused"
    assert caught.value.message.startswith("--webhook ")
    assert "VODFLEET_WEBHOOK_ALLOW" in caught.value.hint


def test_any_internal_address_among_several_refuses() -> None:
    def table(_host: str, _port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")]

    with pytest.raises(WebhookRefused, match=r"10\.0\.0\.7"):
        check_target("https://hooks.example/x", Allowlist(), resolve=table)


def test_the_allowlist_admits_networks_and_names_as_written() -> None:
    allow = Allowlist.parse("127.0.0.0/8, [::1], hooks.internal")
    assert check_target("http://127.1:81/a?b=1", allow).path == "/a?b=1"
    assert check_target("http://[::ffff:127.0.0.1]:81/", allow).host == "::ffff:127.0.0.1"  # mapped: its IPv4 counts
    assert check_target("http://[::1]/", allow).port == 80
    with pytest.raises(WebhookRefused):
        check_target("http://10.0.0.1/", allow)

    def internal(_host: str, _port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("10.9.9.9")]

    assert check_target("https://HOOKS.internal/", allow, resolve=internal).port == 443


def test_a_host_that_does_not_resolve_is_its_own_error() -> None:
    with pytest.raises(WebhookUnresolvable):
        check_target("http://no-such-host.invalid/", Allowlist())  # RFC 6761: .invalid never resolves


@pytest.mark.parametrize("text", ["10.0.0.0/33", "hooks internal", "a/b"])
def test_a_bad_allowlist_entry_is_named(text: str) -> None:
    with pytest.raises(ValueError, match="webhook_allow entry"):
        Allowlist.parse(text)
