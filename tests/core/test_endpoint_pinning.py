"""Issue 9, item 2: what the outbound URL policy calls internal, and the pinned
connection: the host is resolved once per connection, every address checked,
and the socket goes to the checked address while Host and TLS (SNI and the
certificate check) keep the name. DNS is the outside world here: a scripted
resolver stands in for an attacker's DNS server that changes its answer
(rebinding); the servers, sockets, TLS and httpx are real."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import override_settings
from django_tenants.utils import schema_context

from core.endpoint_policy import EndpointRefused, PinnedTransport, check_url, resolve_checked
from llm import gateway
from tests.support.llm_capture import CaptureServer, capture_pair

ALLOWED = "127.0.0.2"
POLICY = {"MODEL_ENDPOINT_ALLOW_HTTP": True,
          "MODEL_ENDPOINT_ALLOWED_NETWORKS": [f"{ALLOWED}/32"],
          "MODEL_ENDPOINT_ALLOWED_HOSTS": []}


class ScriptedDNS:
    """An attacker's DNS server: one scripted answer per lookup (the last one
    repeats), and a record of every lookup."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.answers[min(len(self.lookups), len(self.answers)) - 1]


def pinned_client(dns: ScriptedDNS, *, verify=True) -> httpx.Client:
    return httpx.Client(transport=PinnedTransport(limits=httpx.Limits(), verify=verify,
                                                  resolver=dns), timeout=10)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.9.9.9", "0.0.0.0", "10.0.0.1", "172.31.255.255", "192.168.0.1",
    "100.64.0.1", "100.127.255.254", "169.254.1.1", "224.0.0.251", "239.255.255.250",
    "255.255.255.255", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
    "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::",
    "169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192",
])
def test_internal_and_metadata_addresses_are_refused(address):
    with override_settings(**POLICY), pytest.raises(EndpointRefused):
        resolve_checked("api.example.com", 443, resolver=lambda host, port: [address])


@pytest.mark.parametrize("address", ["8.8.8.8", "104.18.6.192", "2606:4700::6810:6c0"])
def test_public_addresses_are_allowed(address):
    with override_settings(**POLICY):
        assert resolve_checked("api.example.com", 443,
                               resolver=lambda host, port: [address]) == [address]


def test_one_internal_address_among_public_ones_refuses_the_host():
    with override_settings(**POLICY), pytest.raises(EndpointRefused):
        resolve_checked("api.example.com", 443,
                        resolver=lambda host, port: ["8.8.8.8", "10.0.0.7"])


def test_the_operator_allow_list_admits_a_private_gateway_but_never_metadata():
    policy = {**POLICY, "MODEL_ENDPOINT_ALLOWED_HOSTS": ["llm-gateway.corp.test"],
              "MODEL_ENDPOINT_ALLOWED_NETWORKS": ["10.20.0.0/16"]}
    with override_settings(**policy):
        assert resolve_checked("llm-gateway.corp.test", 443,
                               resolver=lambda h, p: ["192.168.7.7"]) == ["192.168.7.7"]
        assert resolve_checked("other.corp.test", 443,
                               resolver=lambda h, p: ["10.20.3.4"]) == ["10.20.3.4"]
        with pytest.raises(EndpointRefused):
            resolve_checked("other.corp.test", 443, resolver=lambda h, p: ["10.21.3.4"])
        with pytest.raises(EndpointRefused, match="metadata"):
            resolve_checked("llm-gateway.corp.test", 443,
                            resolver=lambda h, p: ["169.254.169.254"])


def test_a_user_name_in_the_url_is_refused_and_never_passes_for_the_platform():
    public = ScriptedDNS(["8.8.8.8"])
    with override_settings(**POLICY, OPENAI_BASE_URL="https://api.openai.com/v1"):
        from core.endpoint_policy import is_platform_url

        assert is_platform_url("https://API.openai.com:443/v1/")
        assert not is_platform_url("https://me@api.openai.com/v1")
        assert not is_platform_url("https://api.openai.com@evil.example/v1")
        with pytest.raises(EndpointRefused, match="user name or password"):
            check_url("https://me:secret@api.example.com/v1", resolver=public)


def test_plain_http_needs_the_platform_setting():
    public = ScriptedDNS(["8.8.8.8"])
    with override_settings(**{**POLICY, "MODEL_ENDPOINT_ALLOW_HTTP": False}):
        with pytest.raises(EndpointRefused, match="https://"):
            check_url("http://api.example.com/v1", resolver=public)
        assert check_url("https://api.example.com/v1", resolver=public) == ["8.8.8.8"]
        with pytest.raises(EndpointRefused, match="https://"):  # and per request, too
            pinned_client(public).get("http://api.example.com/v1/models")
    assert public.lookups == ["api.example.com"]  # the refused request resolved nothing


def test_a_rebinding_dns_cannot_switch_a_checked_connection():
    allowed, internal = capture_pair(allowed_host=ALLOWED)
    # Checked: the allowed address; any later lookup: the internal service.
    dns = ScriptedDNS([ALLOWED], ["127.0.0.1"])
    url = f"http://rebind.test:{allowed.port}/v1/models"
    with allowed, internal, override_settings(**POLICY):
        client = pinned_client(dns)
        assert client.get(url).status_code == 200
        assert client.get(url).status_code == 200  # kept alive: same pinned socket

        assert dns.lookups == ["rebind.test"], "resolved once, for the one connection"
        assert [r.headers["host"] for r in allowed.requests] == [f"rebind.test:{allowed.port}"] * 2
        assert internal.requests == []

        # A new connection is resolved and checked again: now refused.
        client.close()
        with pytest.raises(EndpointRefused):
            pinned_client(dns).get(url)
        assert dns.lookups == ["rebind.test", "rebind.test"]
        assert internal.requests == []


def test_an_internal_answer_is_refused_before_any_byte_is_sent():
    allowed, internal = capture_pair(allowed_host=ALLOWED)
    url = f"http://rebind.test:{internal.port}/v1/models"
    with allowed, internal, override_settings(**POLICY):
        for answer in (["127.0.0.1"], [ALLOWED, "127.0.0.1"], ["::ffff:127.0.0.1"]):
            with pytest.raises(EndpointRefused):
                pinned_client(ScriptedDNS(answer)).get(url)
        assert internal.requests == [] and allowed.requests == []


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_tls_keeps_the_name_sni_and_certificate_check_while_the_socket_is_pinned(tmp_path):
    cert, key = _self_signed(tmp_path, "gateway.rebind.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    trust = ssl.create_default_context(cafile=cert)
    with CaptureServer(host=ALLOWED, tls=server_tls) as server, override_settings(**POLICY):
        dns = ScriptedDNS([ALLOWED])
        response = pinned_client(dns, verify=trust).get(
            f"https://gateway.rebind.test:{server.port}/v1/models")
        assert response.status_code == 200
        [request] = server.requests
        assert request.sni == "gateway.rebind.test"
        assert request.headers["host"] == f"gateway.rebind.test:{server.port}"

        # Same address, another name: the certificate is checked against the name.
        with pytest.raises(httpx.ConnectError, match="certificate"):
            pinned_client(ScriptedDNS([ALLOWED]), verify=trust).get(
                f"https://elsewhere.rebind.test:{server.port}/v1/models")
        assert len(server.requests) == 1


def test_the_gateway_never_sends_the_platform_key_off_the_platform_endpoint(make_client):
    """Defence in depth: even an endpoint built wrongly cannot carry the key away."""
    result = make_client("llm")
    platform_key = "sk-platform-only-0042"
    with CaptureServer(host=ALLOWED) as capture, override_settings(
            **POLICY, OPENAI_API_KEY=platform_key, OPENAI_BASE_URL="https://api.openai.com/v1"):
        wrong = gateway.ModelEndpoint(api_key=platform_key, base_url=f"{capture.url}/v1",
                                      source="platform")
        with schema_context(result.client.schema_name):
            with pytest.raises(gateway.GatewayError) as refused:
                gateway.check_connection(endpoint=wrong, model="gpt-4o-mini")
            assert refused.value.kind == "endpoint_refused"
            with pytest.raises(gateway.GatewayError):
                gateway.embed(endpoint=wrong, model="text-embedding-3-small", texts=["hi"])
        assert capture.requests == []
    assert ipaddress.ip_address(ALLOWED).is_loopback  # the allow-list made it reachable
