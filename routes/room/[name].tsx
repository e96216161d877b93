import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { isGroupName } from "../../lib/protocol/mod.ts";
import CallDialog from "../../islands/CallDialog.tsx";
import Lobby from "../../islands/Lobby.tsx";
import MediaViews from "../../islands/MediaViews.tsx";
import Notices from "../../islands/Notices.tsx";

interface RoomData {
  name: string;
}

export const handler: Handlers<RoomData> = {
  GET(_req, ctx) {
    const { name } = ctx.params;
    if (!isGroupName(name)) return ctx.renderNotFound();
    return ctx.render({ name });
  },
};

/** A room: its notices, the call (while there is one), the lobby, and the call dialog. */
export default function Room({ data }: PageProps<RoomData>) {
  return (
    <main class="page room">
      <Head>
        <title>{`${data.name} · Parley`}</title>
      </Head>
      <header class="room-head">
        <p class="crumb">
          <a href="/">Parley</a> / room
        </p>
        <h1 class="room-name">{data.name}</h1>
      </header>
      <Notices />
      <MediaViews />
      <Lobby room={data.name} />
      <CallDialog />
    </main>
  );
}
