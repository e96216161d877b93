/**
 * Forms, as Skapi's methods take them: `<form onsubmit="skapi.postRealtime(event, 'group')">`.
 * A submit event (or a form, or a FormData) stands for the form's named
 * fields; the page does not navigate, and once the call succeeds a form
 * with an `action` goes there, its `{field}` placeholders filled in.
 *
 * @module
 */

/**
 * A form's submit event, as far as the SDK needs it: typed by `Event`'s
 * fields rather than the DOM-only `SubmitEvent`, so the declarations mean
 * the same under Deno's libraries as under a browser's.
 */
export type SubmitEventLike = Pick<Event, "type" | "target" | "preventDefault">;

/**
 * What a method may take in place of its parameters: a form's submit event
 * or a FormData. (A form element works too, but is left out of the type: its
 * `[name: string]: any` index would let any misspelt field through.)
 */
export type FormInput = SubmitEventLike | FormData;

/** A form's fields as an object, and the form they came from (null for a FormData or a plain value). */
export interface FormRead {
  data: unknown;
  form: HTMLFormElement | null;
}

/** Field-reading options, as Skapi's. */
export interface FormOptions {
  /** An empty field reads as null (joinRealtime: an empty group leaves). */
  nullIfEmpty?: boolean;
}

type Fields = Record<string | number, unknown>;

function isForm(value: unknown): value is HTMLFormElement {
  return typeof value === "object" && value !== null &&
    (value as Element).tagName === "FORM" &&
    typeof (value as HTMLFormElement).querySelectorAll === "function";
}

function isSubmit(value: unknown): value is SubmitEventLike {
  return typeof value === "object" && value !== null &&
    typeof (value as Event).preventDefault === "function" &&
    (value as Event).type === "submit" && isForm((value as Event).target);
}

function isFormData(value: unknown): value is FormData {
  return typeof FormData === "function" && value instanceof FormData;
}

/** `a[b][0]` → `["a", "b", 0]`: Skapi's nested field names. */
function keyPath(name: string): (string | number)[] {
  return name.split("[").map((part) => {
    const key = part.replace("]", "");
    const index = Number(key);
    if (key !== "" && !Number.isNaN(index) && !key.includes(".")) return index;
    return key.replace(/^(["'])(.*)\1$/, "$2");
  });
}

function append(data: Fields, name: string, value: unknown, options: FormOptions): void {
  if (options.nullIfEmpty && value === "") value = null;
  const keys = keyPath(name);
  let node: Fields = data;
  keys.forEach((key, i) => {
    if (i < keys.length - 1) {
      node[key] ??= typeof keys[i + 1] === "number" ? [] : {};
      node = node[key] as Fields;
    } else if (node[key] === undefined) node[key] = value;
    else if (Array.isArray(node[key])) (node[key] as unknown[]).push(value);
    else node[key] = [node[key], value];
  });
}

function readInput(data: Fields, input: HTMLInputElement, options: FormOptions): void {
  if (!input.name) return;
  const { type, value, checked } = input;
  if (type === "number") {
    if (value) append(data, input.name, Number(value), options);
  } else if (type === "checkbox" || type === "radio") {
    const flag = value === "" || value === "on" || value === "true";
    if (checked) {
      if (flag) append(data, input.name, true, options);
      else if (value === "false") append(data, input.name, false, options);
      else if (value) append(data, input.name, value, options);
    } else if (type === "checkbox") {
      if (flag) append(data, input.name, false, options);
      else if (value === "false") append(data, input.name, true, options);
    }
  } else if (type !== "file" && type !== "submit" && type !== "button" && type !== "reset") {
    append(data, input.name, value, options);
  }
}

/**
 * Reads `input` as Skapi does: a submit event is stopped (the page stays)
 * and read as its form; a form or a FormData gives its named fields; any
 * other value is returned as it is.
 *
 * @example
 * ```ts ignore
 * form.onsubmit = (event) => {
 *   const { data } = readForm(event); // { chatmsg: "hello" }, and no navigation
 * };
 * ```
 */
export function readForm(input: unknown, options: FormOptions = {}): FormRead {
  let form: HTMLFormElement | null = null;
  if (isSubmit(input)) {
    input.preventDefault();
    form = input.target as HTMLFormElement;
  } else if (isForm(input)) form = input;
  const data: Fields = {};
  if (form) {
    for (const select of form.querySelectorAll("select")) {
      if (select.name) append(data, select.name, select.value, options);
    }
    for (const area of form.querySelectorAll("textarea")) {
      if (area.name) append(data, area.name, area.value, options);
    }
    for (const field of form.querySelectorAll("input")) readInput(data, field, options);
    return { data, form };
  }
  if (isFormData(input)) {
    for (const [name, value] of input.entries()) {
      if (typeof value === "string") append(data, name, value, options);
    }
    return { data, form: null };
  }
  return { data: input, form: null };
}

/**
 * After a form's call succeeded: a form with an `action` goes there, each
 * `{name}` in it replaced by that field's value (Skapi's `action="#{value}"`
 * opens the group just searched for). A form without one stays.
 *
 * @example
 * ```ts ignore
 * const { data, form } = readForm(event);
 * await skapi.getRealtimeGroups(data);
 * if (form) followAction(form);
 * ```
 */
export function followAction(form: HTMLFormElement): void {
  let action = form.getAttribute("action");
  if (action === null) return;
  // Fill the placeholders in the attribute as written: resolved, `{` in a path is `%7B`.
  for (const name of action.match(/(?<=\{).*?(?=\})/g) ?? []) {
    const field = form.querySelector<HTMLInputElement>(`[name="${CSS.escape(name)}"]`);
    if (field && field.type !== "file") action = action.replace(`{${name}}`, field.value);
  }
  const destination = new URL(action, document.baseURI).href;
  if (destination === location.href) location.replace(destination);
  else location.href = destination;
}

/**
 * Runs `call` with what `input` stands for, then follows the form's action.
 *
 * @example
 * ```ts ignore
 * return withForm(event, (data) => this.#post(data, recipient));
 * ```
 */
export function withForm<T>(
  input: unknown,
  call: (data: unknown) => Promise<T>,
  options?: FormOptions,
): Promise<T> {
  // Not async: a plain value (every post of a script) costs no extra promise hop.
  try {
    const { data, form } = readForm(input, options);
    // A native promise comes back as itself: no hop.
    const result = Promise.resolve(call(data));
    if (!form) return result;
    return result.then((value) => {
      followAction(form);
      return value;
    });
  } catch (error) {
    return Promise.reject(error);
  }
}
