/**
 * Seeded randomness for the fuzz tests: a PRNG whose seed a failure prints
 * (and `PARLEY_FUZZ_SEED` replays), and random strings and JSON values
 * that mix in the characters and numbers parsers trip on.
 *
 * @module
 */
import type { Json } from "../../lib/protocol/mod.ts";

// --- PRNG ---

/** sfc32: small, fast, good enough; seeded so a failure can be replayed. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(readonly seed: number, stream = 0) {
    this.#a = 0x9e3779b9 ^ stream;
    this.#b = 0x243f6a88 + stream * 0x85ebca6b;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 20; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** The seed of a run: `PARLEY_FUZZ_SEED` replays one, else a fresh one. */
export function fuzzSeed(): number {
  const fromEnv = Deno.env.get("PARLEY_FUZZ_SEED");
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv) >>> 0;
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

// --- random values ---

const NASTY_CHARS = [
  '"',
  "\\",
  "{",
  "}",
  "[",
  "]",
  ":",
  ",",
  "\u0000",
  "\u0007",
  "\n",
  "\r",
  "\t",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\u202e",
  "\u200b",
  "\ud800", // lone surrogates (a WebSocket sends them as U+FFFD)
  "\udfff",
  "é",
  "€",
  "😀",
  "𝕏",
  "%",
  "%00",
  "<script>",
  "'",
  "`",
  "$",
  "../",
];

/** A string of up to `max` UTF-16 units, mixing ASCII and nasty characters. */
export function randomString(rng: Rng, max: number): string {
  const length = rng.int(max + 1);
  let out = "";
  while (out.length < length) {
    out += rng.chance(0.7) ? String.fromCharCode(rng.range(0x20, 0x7e)) : rng.pick(NASTY_CHARS);
  }
  return out.slice(0, length);
}

/** Numbers that are valid JSON but trip careless checks (signs, edges, exponents). */
export const ODD_NUMBERS = [
  0,
  -0,
  -1,
  1.5,
  -1.5,
  1e308,
  -1e308,
  5e-324,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  2 ** 31,
  2 ** 32,
  1e21,
];

const ODD_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "id",
  "type",
  "sender",
  "",
  "0",
  "\u0000",
  "😀",
];

/** Any JSON value, at most `depth` levels deep and roughly `budget` items. */
export function randomJson(rng: Rng, depth = 4, budget = 12): Json {
  const roll = rng.int(depth > 0 ? 8 : 5);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.chance(0.5) ? rng.pick(ODD_NUMBERS) : rng.range(-1000, 1000);
    case 3:
    case 4:
      return randomString(rng, rng.chance(0.1) ? 300 : 16);
    case 5:
    case 6: {
      const items: Json[] = [];
      for (let i = rng.int(Math.min(budget, 6)); i > 0; i--) {
        items.push(randomJson(rng, depth - 1, budget >> 1));
      }
      return items;
    }
    default: {
      // Built from JSON text so keys like "__proto__" are plain own keys, as the server sees them.
      const entries: string[] = [];
      for (let i = rng.int(Math.min(budget, 6)); i > 0; i--) {
        const key = rng.chance(0.3) ? rng.pick(ODD_KEYS) : randomString(rng, 8);
        entries.push(
          `${JSON.stringify(key)}:${JSON.stringify(randomJson(rng, depth - 1, budget >> 1))}`,
        );
      }
      return JSON.parse(`{${entries.join(",")}}`);
    }
  }
}

/** `levels` nested arrays (or objects), as JSON text, innermost `inner`. */
export function deepText(levels: number, objects: boolean, inner = "1"): string {
  return objects
    ? '{"a":'.repeat(levels) + inner + "}".repeat(levels)
    : "[".repeat(levels) + inner + "]".repeat(levels);
}
