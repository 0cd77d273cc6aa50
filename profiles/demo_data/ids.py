"""Demo data: identifiers (scrambled sequential ids, UUIDs, hex tokens) made in bulk."""

from __future__ import annotations

import numpy as np

# Odd multipliers not divisible by 5, so `index * m + b (mod 10**k or 8 * 10**k)` is a bijection:
# ids are unique without any shared counter and do not reveal which records belong together.
USER_MULTIPLIER = 7_368_787
CRM_MULTIPLIER = 48_271_003
LOYALTY_MULTIPLIER = 692_840_117
ORDER_MULTIPLIER = 411_111_161
PHONE_MULTIPLIER = 2_654_419
ESP_MULTIPLIER = 91_183_247


def scramble(values: np.ndarray, *, modulus: int, multiplier: int, offset: int) -> np.ndarray:
    """Map distinct integers below `modulus` to distinct integers below `modulus`."""
    return (values.astype(np.int64) * multiplier + offset) % modulus


def seed_offset(seed: int, *, salt: int, modulus: int) -> int:
    """A seed-dependent offset for `scramble`, different for every kind of id (`salt`)."""
    return int(np.random.SeedSequence(seed, spawn_key=(salt,)).generate_state(1)[0]) % modulus


def prefixed_numbers(prefix: str, numbers: np.ndarray, *, width: int) -> np.ndarray:
    """Format integers as `prefix` + zero-padded digits, e.g. u0004711."""
    return np.array([f"{prefix}{value:0{width}d}" for value in numbers.tolist()], dtype=object)


def hex_tokens(rng: np.random.Generator, count: int, *, chars: int) -> list[str]:
    """`count` random lowercase hex strings of `chars` characters (chars must be even)."""
    size = chars // 2
    text = rng.bytes(size * count).hex()
    return [text[i : i + chars] for i in range(0, len(text), chars)]


def uuid4_strings(rng: np.random.Generator, count: int) -> list[str]:
    """`count` random version-4 UUID strings, reproducible from `rng`."""
    variant = "89ab"
    return [
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
        for h in hex_tokens(rng, count, chars=32)
    ]
