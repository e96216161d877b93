import assert from "node:assert/strict";
import { readForm } from "../../lib/sdk/forms.ts";

/** Just enough of a form for readForm: named inputs, selects and textareas. */
function fakeForm(inputs: Array<Partial<HTMLInputElement>>, extra: Record<string, unknown[]> = {}) {
  return {
    tagName: "FORM",
    querySelectorAll: (selector: string) => selector === "input" ? inputs : extra[selector] ?? [],
    getAttribute: () => null,
  } as unknown as HTMLFormElement;
}

Deno.test("a submit event stands for its form's named fields, read as Skapi reads them", () => {
  let prevented = false;
  const form = fakeForm([
    { name: "chatmsg", type: "text", value: "hello" },
    { name: "count", type: "number", value: "3" },
    { name: "empty", type: "number", value: "" },
    { name: "agree", type: "checkbox", value: "on", checked: true },
    { name: "spam", type: "checkbox", value: "", checked: false },
    { name: "color", type: "radio", value: "red", checked: false },
    { name: "color", type: "radio", value: "blue", checked: true },
    { name: "user[name]", type: "text", value: "Ada" },
    { name: "tags[0]", type: "text", value: "a" },
    { name: "tags[1]", type: "text", value: "b" },
    { name: "", type: "text", value: "unnamed" },
    { name: "go", type: "submit", value: "Send" },
  ], { select: [{ name: "room", value: "lobby" }], textarea: [{ name: "note", value: "n" }] });
  const event = { type: "submit", target: form, preventDefault: () => prevented = true };
  const { data, form: from } = readForm(event);
  assert.ok(prevented, "the page does not navigate");
  assert.equal(from, form);
  assert.deepEqual(data, {
    room: "lobby",
    note: "n",
    chatmsg: "hello",
    count: 3,
    agree: true,
    spam: false,
    color: "blue",
    user: { name: "Ada" },
    tags: ["a", "b"],
  });
});

Deno.test("joinRealtime's empty group field reads as null; FormData and plain values pass", () => {
  const form = fakeForm([{ name: "group", type: "text", value: "" }]);
  assert.deepEqual(readForm(form, { nullIfEmpty: true }).data, { group: null });
  const fields = new FormData();
  fields.append("msg", "hi");
  fields.append("msg", "again");
  assert.deepEqual(readForm(fields).data, { msg: ["hi", "again"] });
  const plain = { group: "Another Group Name" };
  assert.equal(readForm(plain).data, plain);
  assert.equal(readForm("text").data, "text");
  assert.equal(readForm(null).form, null);
});
