import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { renderPage } from "$fresh/render.ts";
import { ISLAND_MARKER, islandId } from "$fresh/runtime.ts";

Deno.test("islandId: file name without extension, folders joined by _", () => {
  assert.equal(islandId("./islands/JoinRoomForm.tsx"), "JoinRoomForm");
  assert.equal(islandId("./islands/room/Chat-box.tsx"), "room_Chat_box");
});

function Inner(props: { n: number }) {
  return <i>{props.n}</i>;
}
function Outer(props: { n: number; onClick?: () => void }) {
  return (
    <b>
      <Inner n={props.n + 1} />
    </b>
  );
}
const islands = {
  "./islands/Inner.tsx": { default: Inner },
  "./islands/Outer.tsx": { default: Outer },
};

const props = { url: new URL("http://x/"), route: "/", params: {}, state: {}, data: undefined };
const build = {
  buildId: "b1",
  runtime: "runtime.js",
  islands: { Inner: "Inner.js", Outer: "Outer.js" },
  files: {},
  entries: {},
};

Deno.test("islands are marked once, nested islands are not marked again", () => {
  const page = () => (
    <div>
      <Outer n={1} />
      <Inner n={9} />
    </div>
  );
  const html = renderPage({ page, props, islands, build });
  assert.ok(
    html.includes(
      `<div><!--${ISLAND_MARKER}-Outer:0--><b><i>2</i></b><!--/${ISLAND_MARKER}-Outer:0-->` +
        `<!--${ISLAND_MARKER}-Inner:1--><i>9</i><!--/${ISLAND_MARKER}-Inner:1--></div>`,
    ),
    html,
  );
  const state = html.match(/<script id="__FRSH_STATE" type="application\/json">(.*?)<\/script>/);
  assert.deepEqual(JSON.parse(state?.[1] ?? ""), [{ n: 1 }, { n: 9 }]);
  assert.match(
    html,
    /import \$0 from "\/_frsh\/js\/b1\/Outer\.js";import \$1 from "\/_frsh\/js\/b1\/Inner\.js";/,
  );
});

Deno.test("an island missing from the build is a clear error", () => {
  const partial = { ...build, islands: { Inner: "Inner.js" } };
  assert.throws(
    () => renderPage({ page: () => <Outer n={1} />, props, islands, build: partial }),
    /Cannot hydrate island "Outer" as the client build does not contain it/,
  );
  assert.throws(
    () => renderPage({ page: () => <Inner n={1} />, props, islands }),
    /no client build/,
  );
});

Deno.test("outside renderPage islands render plainly", () => {
  assert.equal(renderToString(<Inner n={1} />), "<i>1</i>");
});
