"""CEA-708 (DTVCC) caption data: which caption services a master carries. Pure.

A/53 cc_data triplets of cc_type 3 start a DTVCC packet and cc_type 2 continue it (ATSC A/53 Part 4
Table 6.4). A packet is a header byte (sequence number: 2 bits, packet_size_code: 6 bits; the packet is
``code × 2`` bytes, 128 when the code is 0) then service blocks, each a header byte (service_number: 3 bits,
block_size: 5 bits; number 7 takes the extended number from the next byte's low 6 bits) and block_size bytes
(CEA-708-E §6.2, §6.3). Service 0 is the null block that pads a packet. This module only names the services (for
HLS INSTREAM-ID "SERVICEn" and the DASH cea-708 descriptor); `pipelines.captions.cea708` decodes their text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PACKET_START, PACKET_DATA = 3, 2


def packets(triplets: Iterable[tuple[int, int, int]]) -> list[bytes]:
    """(cc_type, byte 1, byte 2) of the valid 708 triplets, in order → whole DTVCC packets (header included).
    Data before the first packet start is dropped; a packet cut short by the next start is kept as it is."""
    found: list[bytearray] = []
    for cc_type, first, second in triplets:
        if cc_type == PACKET_START:
            found.append(bytearray((first, second)))
        elif cc_type == PACKET_DATA and found:
            found[-1] += bytes((first, second))
    result = []
    for packet in found:
        code = packet[0] & 0x3F
        result.append(bytes(packet[:(code or 64) * 2]))
    return result


@dataclass(frozen=True)
class ServiceBlock:
    """One service block of a caption channel packet: its service number (1-63), its bytes, and whether the packet
    ended inside it (then `data` is what there is; number 0 when even the extended header was cut)."""

    number: int
    data: bytes
    truncated: bool


def service_blocks(packet: bytes) -> Iterator[ServiceBlock]:
    """The service blocks of one caption channel packet (CEA-708-E §6.2): standard numbers 1-6 in the block header,
    extended 7-63 in the byte after it; the null block (number 0) ends the packet, the rest is padding."""
    at = 1
    while at < len(packet):
        number, size = packet[at] >> 5, packet[at] & 0x1F
        at += 1
        if number == 0:
            return
        if number == 7:
            if at >= len(packet):
                yield ServiceBlock(0, b"", truncated=True)
                return
            number = packet[at] & 0x3F
            at += 1
        yield ServiceBlock(number, packet[at:at + size], truncated=at + size > len(packet))
        at += size


def packet_services(packet: bytes) -> set[int]:
    """The numbers of the services with a non-empty, whole block in one packet (CEA-708-E §6.2)."""
    return {block.number for block in service_blocks(packet) if block.data and not block.truncated}


def services(triplets: Iterable[tuple[int, int, int]]) -> tuple[int, ...]:
    """Every caption service (1-63) that sends a service block anywhere in the triplets, ascending."""
    found: set[int] = set()
    for packet in packets(triplets):
        found |= packet_services(packet)
    return tuple(sorted(n for n in found if 1 <= n <= 63))


class ServiceScan:
    """`services` fed one triplet at a time (a feature's caption data is never held whole): `feed` each valid
    708 triplet in order, then read `found`."""

    def __init__(self) -> None:
        self._services: set[int] = set()
        self._packet: bytearray | None = None

    def feed(self, cc_type: int, first: int, second: int) -> None:
        if cc_type == PACKET_START:
            self._close()
            self._packet = bytearray((first, second))
        elif cc_type == PACKET_DATA and self._packet is not None:
            self._packet += bytes((first, second))

    def _close(self) -> None:
        if self._packet is not None:
            code = self._packet[0] & 0x3F
            self._services |= {n for n in packet_services(bytes(self._packet[:(code or 64) * 2])) if 1 <= n <= 63}
            self._packet = None

    @property
    def found(self) -> tuple[int, ...]:
        self._close()
        return tuple(sorted(self._services))
