/**
 * Helpers of the validators: std-style messages that name the field, its
 * rule and the offending value.
 *
 * @module
 */

/** A decoded JSON object. */
export type Fields = Record<string, unknown>;

export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

export function reject(
  ErrorType: ErrorConstructor | TypeErrorConstructor | SyntaxErrorConstructor,
  field: string,
  rule: string,
  value: unknown,
): never {
  throw new ErrorType(
    `Cannot accept frame as '${field}' ${rule}: current value is ${show(value)}`,
  );
}

export function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function onlyFields(
  frame: Fields,
  allowed: readonly string[],
  what: string,
  prefix = "",
): void {
  for (const key of Object.keys(frame)) {
    if (!allowed.includes(key)) {
      reject(
        TypeError,
        prefix + key,
        `is not a field of ${what} (the server stamps senders itself)`,
        frame[key],
      );
    }
  }
}

export function nonNegativeInteger(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    reject(TypeError, field, "must be a non-negative integer", value);
  }
  return value as number;
}

export function optionalString(
  frame: Fields,
  field: string,
  max: number,
  prefix = "",
): void {
  const value = frame[field];
  if (value === undefined) return;
  if (typeof value !== "string") {
    reject(TypeError, prefix + field, "must be a string", value);
  }
  if (value.length > max) {
    reject(
      TypeError,
      prefix + field,
      `must be at most ${max} characters`,
      value,
    );
  }
}

/**
 * Checks that `value` is an object whose `key` is one of `tags`, and
 * returns both: the shape of every discriminated union on the wire.
 */
export function tagged<T extends string>(
  value: unknown,
  labels: { object: string; tag: string },
  key: string,
  tags: readonly T[],
  ErrorType: ErrorConstructor | TypeErrorConstructor | SyntaxErrorConstructor,
): [Fields, T] {
  if (!isObject(value)) reject(ErrorType, labels.object, "must be a JSON object", value);
  const tag = value[key] as T;
  if (!tags.includes(tag)) reject(ErrorType, labels.tag, `must be one of ${tags.join(", ")}`, tag);
  return [value, tag];
}

/** Checks that `value` nests at most `maxDepth` levels, without recursion (hostile depth never overflows the stack). */
export function checkDepth(value: unknown, maxDepth: number, field: string): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth > maxDepth) reject(RangeError, field, `must nest at most ${maxDepth} levels`, item);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
}
