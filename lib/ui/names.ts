/**
 * Names people see: the display name a browser remembers, and the readable
 * random names of new rooms.
 *
 * @module
 */
import { isGroupName } from "../protocol/mod.ts";

/** Where pages remember the visitor's display name. */
export const NAME_STORAGE_KEY = "parley.name";

const ADJECTIVES = [
  "brave",
  "calm",
  "clever",
  "eager",
  "gentle",
  "happy",
  "jolly",
  "kind",
  "lively",
  "lucky",
  "merry",
  "proud",
  "quick",
  "quiet",
  "sunny",
  "witty",
] as const;

const ANIMALS = [
  "badger",
  "crane",
  "dolphin",
  "falcon",
  "fox",
  "heron",
  "koala",
  "lynx",
  "otter",
  "owl",
  "panda",
  "puffin",
  "seal",
  "tiger",
  "walrus",
  "wren",
] as const;

function pick<T>(list: readonly T[]): T {
  return list[crypto.getRandomValues(new Uint32Array(1))[0] % list.length];
}

/**
 * A random readable room name such as `brave-otter-42`.
 *
 * @example
 * ```ts
 * import { randomRoomName } from "./names.ts";
 * console.log(/^[a-z]+-[a-z]+-\d{1,2}$/.test(randomRoomName())); // true
 * ```
 */
export function randomRoomName(): string {
  const number = crypto.getRandomValues(new Uint32Array(1))[0] % 100;
  const name = `${pick(ADJECTIVES)}-${pick(ANIMALS)}-${number}`;
  return isGroupName(name) ? name : "parley-room";
}

/** The remembered display name, or "" (also when storage is off). */
export function rememberedName(): string {
  try {
    return localStorage.getItem(NAME_STORAGE_KEY)?.trim() ?? "";
  } catch {
    return "";
  }
}

/** Remembers `name` for the next visit; a blank name is not stored. */
export function rememberName(name: string): void {
  const trimmed = name.trim();
  if (!trimmed) return;
  try {
    localStorage.setItem(NAME_STORAGE_KEY, trimmed);
  } catch { /* storage disabled or full: the name lasts this visit */ }
}
