import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { isGroupName } from "../../lib/protocol/mod.ts";

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

/** A room. For now its name; the call islands come next. */
export default function Room({ data }: PageProps<RoomData>) {
  return (
    <main class="page">
      <Head>
        <title>{`${data.name} · Parley`}</title>
      </Head>
      <p class="crumb">
        <a href="/">Parley</a> / room
      </p>
      <h1 class="room-name">{data.name}</h1>
      <p>Share this page's address to invite others.</p>
    </main>
  );
}
