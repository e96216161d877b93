import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { collectIslands, ISLAND_MARKER, islandId, registerIslands } from "$fresh/islands.ts";

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
registerIslands({
  "./islands/Inner.tsx": { default: Inner },
  "./islands/Outer.tsx": { default: Outer },
});

Deno.test("islands are marked once, nested islands are not marked again", () => {
  const { result, islands } = collectIslands(() =>
    renderToString(
      <div>
        <Outer n={1} />
        <Inner n={9} />
      </div>,
    )
  );
  assert.equal(
    result,
    `<div><!--${ISLAND_MARKER}-Outer:0--><b><i>2</i></b><!--/${ISLAND_MARKER}-Outer:0-->` +
      `<!--${ISLAND_MARKER}-Inner:1--><i>9</i><!--/${ISLAND_MARKER}-Inner:1--></div>`,
  );
  assert.deepEqual(islands, [{ id: "Outer", props: { n: 1 } }, { id: "Inner", props: { n: 9 } }]);
});

Deno.test("outside collectIslands islands render plainly", () => {
  assert.equal(renderToString(<Inner n={1} />), "<i>1</i>");
});
