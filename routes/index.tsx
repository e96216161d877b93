import JoinRoomForm from "../islands/JoinRoomForm.tsx";
import RoomList from "../islands/RoomList.tsx";

/** Landing: what Parley is, a form to create or join a room, and the rooms in use. */
export default function Home() {
  return (
    <main class="page">
      <h1>Parley</h1>
      <p class="pitch">
        Talk face to face, right in your browser. Pick a room name, share the link, and everyone who
        opens it joins the same call — no accounts, no installs, just a room and the people in it.
      </p>
      <JoinRoomForm />
      <RoomList />
      <p class="builders muted">
        Building your own app on Parley? Its SDK is the npm package <code>parley-sdk</code> or{" "}
        <a href="/sdk.js">/sdk.js</a> — see the <a href="/docs/sdk/">API reference</a>.
      </p>
    </main>
  );
}
